/**
 * @module image-build/debian-version
 * Debian package versions as image labels. `version` and `release` must make a valid tag when
 * joined as `{version}-{release}` (prepare's --tag-from-label), but Debian versions may hold
 * characters a tag cannot ("+", "~", ":"), so those are mapped; the exact Debian version is kept in
 * its own label.
 */

export interface VersionLabels {
  version: string;
  release: string;
}

/** Tags allow [A-Za-z0-9_.-]; "+" and "~" (common in Debian revisions) become "_" and ".". */
function tagSafe(s: string): string {
  return s
    .replace(/\+/g, '_')
    .replace(/~/g, '.')
    .replace(/[^A-Za-z0-9_.-]/g, '_');
}

/**
 * versionLabels splits `[epoch:]upstream[-revision]`: version is the upstream part (the epoch is
 * dropped, as RPM's version label has none), release is the Debian revision ("0" for native
 * packages, which have none).
 */
export function versionLabels(debianVersion: string): VersionLabels {
  const noEpoch = debianVersion.replace(/^\d+:/, '');
  const dash = noEpoch.lastIndexOf('-');
  const upstream = dash > 0 ? noEpoch.slice(0, dash) : noEpoch;
  const revision = dash > 0 ? noEpoch.slice(dash + 1) : '0';
  return { version: tagSafe(upstream), release: tagSafe(revision) };
}

/** versionTag is `{version}-{release}`, the tag --tag-from-label "{version}-{release}" finds. */
export function versionTag(debianVersion: string): string {
  const { version, release } = versionLabels(debianVersion);
  return `${version}-${release}`;
}
