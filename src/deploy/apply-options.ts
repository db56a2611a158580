/**
 * @module deploy/apply-options
 * How a convergence runs (apply, step and state all read it): its own file so that none of
 * them imports another only for this type.
 */

export interface ApplyOptions {
  dryRun: boolean;
  healthTimeoutMs: number;
  /** missing: pull only absent images (paunch); always: also re-pull present tags. */
  pull: 'missing' | 'always';
  /** Registry hosts reached over plain HTTP (DockerInsecureRegistryAddress). */
  insecureRegistries: ReadonlySet<string>;
  /** Nodes worked on at once. */
  concurrency: number;
  out: (line: string) => void;
}
