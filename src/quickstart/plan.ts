/**
 * @module quickstart/plan
 * Pure parts of the quickstart: which images to build for the images file that prepare wrote, the
 * quickstart's own Heat environment, and the convergence verdict.
 */
import { stringify } from 'yaml';
import { AppError } from '../errors.js';
import type { QuickstartConfig } from '../lab/index.js';

/** imageShortName is the kolla name inside `host/ns/<prefix><name>:<tag>` (undefined if not prefixed). */
export function imageShortName(imagename: string, prefix: string): string | undefined {
  const last = imagename.split('/').pop() ?? '';
  const repo = last.replace(/[:@].*$/, '');
  return repo.startsWith(prefix) ? repo.slice(prefix.length) : undefined;
}

export interface BuildSelection {
  /** Recipe names to pass to `image build --include`. */
  recipes: string[];
  /** Images of the deployment that no recipe serves. */
  missing: string[];
}

/**
 * selectBuild maps the images the deployment needs (prepare's images file) to the recipes that
 * serve them: `served` is catalogue name -> recipe name.
 */
export function selectBuild(
  imagenames: string[],
  prefix: string,
  served: ReadonlyMap<string, string>,
): BuildSelection {
  const recipes = new Set<string>();
  const missing: string[] = [];
  for (const img of imagenames) {
    const short = imageShortName(img, prefix);
    const recipe = short === undefined ? undefined : served.get(short);
    if (recipe === undefined) missing.push(img);
    else recipes.add(recipe);
  }
  return { recipes: [...recipes].sort(), missing };
}

/** includeRegex selects exactly these image names (they are `[a-z0-9-]` words, nothing to escape). */
export function includeRegex(names: string[]): string {
  if (names.length === 0) throw new AppError('INTERNAL', 'no image to build');
  return `^(${names.join('|')})$`;
}

/** quickstartEnvironment is the Heat environment of the topology: a count per role, plus the config's parameters. */
export function quickstartEnvironment(config: QuickstartConfig): string {
  const counts = Object.fromEntries(config.nodes.map((g) => [`${g.role}Count`, g.count]));
  const doc = { parameter_defaults: { ...counts, ...config.deploy.parameterDefaults } };
  return `# Written by overcloud quickstart from ${config.path}: the topology and the config's parameters.\n${stringify(doc)}`;
}

export interface StageOutcome {
  name: string;
  seconds: number;
  changed: boolean;
  detail: string;
  skipped?: boolean;
}

/** verdict says whether a run converged (nothing changed) and which stages changed something. */
export function verdict(stages: StageOutcome[]): { converged: boolean; changed: string[] } {
  const changed = stages.filter((s) => s.changed).map((s) => s.name);
  return { converged: changed.length === 0, changed };
}

/** formatDuration: 4.2 s, 3 min 05 s. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return `${m} min ${String(s).padStart(2, '0')} s`;
}
