/**
 * @module build/image-result
 * What the build reports for one image; the push (./publish.ts) reads it too, so it lives apart
 * from the builder that makes it.
 */

export type ImageStatus = 'cached' | 'built' | 'failed' | 'skipped';

export interface ImageResult {
  name: string;
  key: string;
  status: ImageStatus;
  seconds: number;
  id?: string;
  /** local repository names, each tagged with the build tag and the version tag */
  names: string[];
  versionTag?: string;
  error?: string;
}
