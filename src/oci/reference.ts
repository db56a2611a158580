/**
 * @module oci/reference
 * Image references: `[registry[:port]/]repository[:tag][@digest]`, with Docker's grammar and defaults.
 * https://github.com/distribution/reference/blob/main/reference.go
 */
import { AppError } from '../errors.js';
import { type Digest, parseDigest } from './digest.js';

export const DOCKER_HUB = 'docker.io';

/** A path component of a repository name (the spec's `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`). */
const COMPONENT_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DOMAIN_RE =
  /^(?:localhost|(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;
const MAX_NAME = 255;

/** Reference is a parsed image reference. `registry` is always set (Docker Hub when omitted). */
export interface Reference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: Digest;
}

/** isValidRepository checks a repository path against the distribution spec's grammar. */
export function isValidRepository(name: string): boolean {
  if (name.length === 0 || name.length > MAX_NAME) return false;
  return name.split('/').every((c) => COMPONENT_RE.test(c));
}

/** isValidTag checks a tag against the spec's grammar. */
export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/** isValidRegistryHost checks `host[:port]`. */
export function isValidRegistryHost(host: string): boolean {
  return DOMAIN_RE.test(host);
}

/** looksLikeRegistry tells whether a first path component names a registry (Docker's rule). */
export function looksLikeRegistry(component: string): boolean {
  return (
    component.includes('.') || component.includes(':') || component === 'localhost' || /[A-Z]/.test(component)
  );
}

/**
 * parseReference parses an image reference. `docker.io` names without a namespace get `library/`,
 * as docker does. Throws REFERENCE_INVALID naming the reference and what is wrong with it.
 */
export function parseReference(input: string, opts: { defaultTag?: string } = {}): Reference {
  const bad = (why: string): never => {
    throw new AppError('REFERENCE_INVALID', `invalid image reference "${input}": ${why}`);
  };
  let rest = input.trim();
  if (rest.length === 0) bad('it is empty');
  if (rest.includes('://')) bad('leave out the scheme (http:// or https://)');
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    try {
      digest = parseDigest(rest.slice(at + 1));
    } catch {
      bad(`"${rest.slice(at + 1)}" is not a valid digest`);
    }
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) bad(`"${tag}" is not a valid tag`);
  }
  let registry = DOCKER_HUB;
  const slash = rest.indexOf('/');
  if (slash >= 0 && looksLikeRegistry(rest.slice(0, slash))) {
    registry = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
    if (!isValidRegistryHost(registry)) bad(`"${registry}" is not a valid registry host`);
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !rest.includes('/')) rest = `library/${rest}`;
  if (!isValidRepository(rest)) {
    bad(`"${rest}" is not a valid repository name (lower-case letters, digits and . _ - separators)`);
  }
  if (tag === undefined && digest === undefined && opts.defaultTag !== undefined) tag = opts.defaultTag;
  const ref: Reference = { registry, repository: rest };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** formatReference renders a reference back to its canonical string. */
export function formatReference(ref: Reference): string {
  let s = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** referenceTarget is what to ask the registry for: the digest when pinned, else the tag. */
export function referenceTarget(ref: Reference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/**
 * pushTargetName is where an image goes when copied to `pushDestination` (a `host[:port]`):
 * TripleO's rule, the destination host in front of the image name without its registry
 * (`docker.io/tripleoupstream/x:tag` -> `192.168.24.1:8787/tripleoupstream/x:tag`).
 * TripleO dropped the first path component even when it was a namespace rather than a registry
 * (`tripleoupstream/x` -> `HOST/x`); we drop it only when it names a registry, so that prepare's
 * env file and upload's destination agree for every form of --namespace. Tag and digest are kept.
 */
export function pushTargetName(imagename: string, pushDestination: string): string {
  const dest = pushDestination.replace(/\/+$/, '');
  const slash = imagename.indexOf('/');
  const rest =
    slash >= 0 && looksLikeRegistry(imagename.slice(0, slash)) ? imagename.slice(slash + 1) : imagename;
  return `${dest}/${rest}`;
}

/** registryOfName returns the explicit registry host of an image name, or undefined (Docker Hub). */
export function registryOfName(imagename: string): string | undefined {
  const slash = imagename.indexOf('/');
  if (slash < 0) return undefined;
  const first = imagename.slice(0, slash);
  return looksLikeRegistry(first) ? first : undefined;
}
