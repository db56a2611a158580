/**
 * @module registry/platform
 * Choosing manifests from an index by `os/arch[/variant]`.
 */
import { arch } from 'node:os';
import { AppError } from '../errors.js';
import type { Descriptor, Platform } from '../oci/descriptor.js';

export interface PlatformFilter {
  os: string;
  architecture: string;
  variant?: string;
}

/** parsePlatform reads `linux/amd64` or `linux/arm64/v8`. */
export function parsePlatform(s: string): PlatformFilter {
  const [os, architecture, variant, extra] = s.split('/');
  if (!os || !architecture || extra !== undefined) {
    throw new AppError('USAGE', `invalid platform "${s}": expected os/arch or os/arch/variant`);
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** hostPlatform is what a plain `podman pull` on this machine would choose. */
export function hostPlatform(): PlatformFilter {
  const a = arch();
  const architecture = a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
  return { os: 'linux', architecture };
}

/** matchesPlatform: os and architecture must match; variant only when the filter names one. */
export function matchesPlatform(p: Platform | undefined, f: PlatformFilter): boolean {
  if (!p) return false;
  if (p.os !== f.os || p.architecture !== f.architecture) return false;
  return f.variant === undefined || p.variant === f.variant;
}

/** selectManifests keeps the entries for the chosen platforms (all when `filters` is empty). */
export function selectManifests(entries: Descriptor[], filters: PlatformFilter[]): Descriptor[] {
  if (filters.length === 0) return entries;
  return entries.filter((d) => filters.some((f) => matchesPlatform(d.platform, f)));
}
