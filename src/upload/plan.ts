/**
 * @module upload/plan
 * planUpload: a pure function from what the sources hold and what the destinations hold to the
 * work list. Per destination registry, each unique blob is copied at most once; every other
 * repository that needs it gets a cross-repository mount; what is already there is skipped.
 */

import type { Descriptor } from '../oci/descriptor.js';
import { formatReference, referenceTarget } from '../oci/reference.js';
import {
  type BlobCopy,
  type BlobMount,
  blobKey,
  type DestinationState,
  type ImagePlan,
  type ResolvedImage,
  tagKey,
  type UploadPlan,
} from './model.js';
import type { BlobSource } from './source.js';

interface Need {
  desc: Descriptor;
  destRepo: string;
  sourceHost: string;
  sourceRepo: string;
  source?: BlobSource;
}

/** isPresent: the target tag already names the source's root manifest. */
export function isPresent(image: ResolvedImage, dest: DestinationState): boolean {
  const t = image.task.target;
  const tag = referenceTarget(t);
  return dest.tags.get(tagKey(t.registry, t.repository, tag)) === image.root.digest;
}

export function planUpload(images: ResolvedImage[], dest: DestinationState): UploadPlan {
  const plans: ImagePlan[] = [];
  // host → digest → needs, in first-seen order so the plan is deterministic.
  const needs = new Map<string, Map<string, Need[]>>();
  // host → digest → repositories holding it (known from HEADs, or from images already present).
  const holders = new Map<string, Map<string, string[]>>();
  const addHolder = (host: string, digest: string, repo: string): void => {
    let byDigest = holders.get(host);
    if (!byDigest) {
      byDigest = new Map();
      holders.set(host, byDigest);
    }
    const list = byDigest.get(digest) ?? [];
    if (!list.includes(repo)) list.push(repo);
    byDigest.set(digest, list);
  };
  for (const key of dest.blobs) {
    const at = key.lastIndexOf('@');
    const hostRepo = key.slice(0, at);
    const slash = hostRepo.indexOf('/');
    addHolder(hostRepo.slice(0, slash), key.slice(at + 1), hostRepo.slice(slash + 1));
  }

  for (const image of images) {
    const t = image.task.target;
    const blobs = uniqueBlobs(image);
    if (isPresent(image, dest)) {
      // A registry accepts a manifest only when its blobs exist, so the tag vouches for them.
      for (const b of blobs) addHolder(t.registry, b.digest, t.repository);
      plans.push({ image, action: 'present', needs: [], manifests: [] });
      continue;
    }
    let byDigest = needs.get(t.registry);
    if (!byDigest) {
      byDigest = new Map();
      needs.set(t.registry, byDigest);
    }
    for (const b of blobs) {
      const list = byDigest.get(b.digest) ?? [];
      if (!list.some((n) => n.destRepo === t.repository)) {
        list.push({
          desc: b,
          destRepo: t.repository,
          sourceHost: image.task.source.registry,
          sourceRepo: image.task.source.repository,
          ...(image.blobs ? { source: image.blobs } : {}),
        });
      }
      byDigest.set(b.digest, list);
    }
    const manifests = image.isIndex
      ? [
          ...image.images.map((i) => ({ raw: i.raw, reference: i.raw.digest as string })),
          { raw: image.root, reference: referenceTarget(t) },
        ]
      : [{ raw: image.root, reference: referenceTarget(t) }];
    plans.push({
      image,
      action: 'copy',
      needs: blobs.map((b) => blobKey(t.registry, t.repository, b.digest)),
      manifests,
    });
  }

  const copies: BlobCopy[] = [];
  const mounts: BlobMount[] = [];
  const existing: string[] = [];
  for (const [host, byDigest] of needs) {
    for (const [digest, list] of byDigest) {
      const have = holders.get(host)?.get(digest) ?? [];
      const missing = list.filter((n) => !have.includes(n.destRepo));
      for (const n of list) if (have.includes(n.destRepo)) existing.push(blobKey(host, n.destRepo, digest));
      const first = missing[0];
      if (!first) continue;
      let from = have[0];
      let after: string | undefined;
      let rest = missing;
      if (from === undefined) {
        const copy: BlobCopy = {
          key: blobKey(host, first.destRepo, digest),
          desc: first.desc,
          sourceHost: first.sourceHost,
          sourceRepo: first.sourceRepo,
          destHost: host,
          destRepo: first.destRepo,
          ...(first.source ? { source: first.source } : {}),
        };
        copies.push(copy);
        from = first.destRepo;
        after = copy.key;
        rest = missing.slice(1);
      }
      for (const n of rest) {
        mounts.push({
          key: blobKey(host, n.destRepo, digest),
          desc: n.desc,
          destHost: host,
          destRepo: n.destRepo,
          fromRepo: from,
          ...(after ? { after } : {}),
          sourceHost: n.sourceHost,
          sourceRepo: n.sourceRepo,
          ...(n.source ? { source: n.source } : {}),
        });
      }
    }
  }
  copies.sort((a, b) => b.desc.size - a.desc.size);
  return {
    images: plans,
    copies,
    mounts,
    existing,
    bytesToCopy: copies.reduce((s, c) => s + c.desc.size, 0),
  };
}

function uniqueBlobs(image: ResolvedImage): Descriptor[] {
  const seen = new Map<string, Descriptor>();
  for (const i of image.images) for (const b of i.blobs) if (!seen.has(b.digest)) seen.set(b.digest, b);
  return [...seen.values()];
}

/** describeImage names an image for messages: `source -> target`. */
export function describeImage(image: ResolvedImage): string {
  return `${formatReference(image.task.source)} -> ${formatReference(image.task.target)}`;
}
