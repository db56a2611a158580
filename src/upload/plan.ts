/**
 * @module upload/plan
 * planUpload: a pure function from what the sources hold and what the destinations hold to the
 * work list. Per destination registry, each unique blob is copied at most once; every other
 * repository that needs it gets a cross-repository mount; what is already there is skipped.
 * The result is plain data (./model.ts): printable, comparable, and all the executor needs
 * besides the manifests' bytes.
 */

import type { Descriptor } from '../oci/descriptor.js';
import { formatReference, referenceTarget } from '../oci/reference.js';
import type {
  BlobCopy,
  BlobLocation,
  BlobMount,
  DestinationState,
  ImagePlan,
  ManifestPush,
  ResolvedImage,
  SourceRef,
  UploadPlan,
} from './model.js';
import { tagKey } from './model.js';

interface Need {
  desc: Descriptor;
  destRepo: string;
  from: SourceRef;
}

/** isPresent: the target tag already names the source's root manifest. */
export function isPresent(image: ResolvedImage, dest: Pick<DestinationState, 'tags'>): boolean {
  const t = image.task.target;
  const tag = referenceTarget(t);
  return dest.tags.get(tagKey(t.registry, t.repository, tag)) === image.root.digest;
}

/** sourceOf says where an image's blobs are read from. */
export function sourceOf(image: ResolvedImage): SourceRef {
  return image.layout !== undefined
    ? { kind: 'layout', dir: image.layout }
    : { kind: 'registry', host: image.task.source.registry, repository: image.task.source.repository };
}

/** Holders: host → digest → repositories holding it, in first-seen order. */
class Holders {
  private readonly byHost = new Map<string, Map<string, string[]>>();
  add(host: string, digest: string, repo: string): void {
    let byDigest = this.byHost.get(host);
    if (!byDigest) {
      byDigest = new Map();
      this.byHost.set(host, byDigest);
    }
    const list = byDigest.get(digest) ?? [];
    if (!list.includes(repo)) list.push(repo);
    byDigest.set(digest, list);
  }
  of(host: string, digest: string): string[] {
    return this.byHost.get(host)?.get(digest) ?? [];
  }
}

export function planUpload(images: ResolvedImage[], dest: DestinationState): UploadPlan {
  const plans: ImagePlan[] = [];
  // host → digest → needs, in first-seen order so the plan is deterministic.
  const needs = new Map<string, Map<string, Need[]>>();
  // Who holds what: known from HEADs, or from images already present.
  const holders = new Holders();
  for (const b of dest.blobs) holders.add(b.host, b.digest, b.repository);

  for (const image of images) {
    const t = image.task.target;
    const blobs = uniqueBlobs(image);
    if (isPresent(image, dest)) {
      // A registry accepts a manifest only when its blobs exist, so the tag vouches for them.
      for (const b of blobs) holders.add(t.registry, b.digest, t.repository);
      plans.push(imagePlan(image, 'present', [], []));
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
        list.push({ desc: b, destRepo: t.repository, from: sourceOf(image) });
      }
      byDigest.set(b.digest, list);
    }
    const root = { raw: image.root, reference: referenceTarget(t) };
    const manifests = image.isIndex
      ? [...image.images.map((i) => ({ raw: i.raw, reference: i.raw.digest as string })), root]
      : [root];
    plans.push(
      imagePlan(
        image,
        'copy',
        blobs.map((b) => ({ host: t.registry, repository: t.repository, digest: b.digest })),
        manifests.map(({ raw, reference }) => ({
          reference,
          digest: raw.digest,
          mediaType: raw.mediaType,
          size: raw.bytes.length,
        })),
      ),
    );
  }

  const copies: BlobCopy[] = [];
  const mounts: BlobMount[] = [];
  const existing: BlobLocation[] = [];
  for (const [host, byDigest] of needs) {
    for (const [digest, list] of byDigest) {
      const have = holders.of(host, digest);
      const missing = list.filter((n) => !have.includes(n.destRepo));
      for (const n of list)
        if (have.includes(n.destRepo)) existing.push({ host, repository: n.destRepo, digest: n.desc.digest });
      const first = missing[0];
      if (!first) continue;
      let from = have[0];
      let after: BlobLocation | undefined;
      let rest = missing;
      if (from === undefined) {
        const copy: BlobCopy = {
          blob: first.desc,
          from: first.from,
          to: { host, repository: first.destRepo, digest: first.desc.digest },
        };
        copies.push(copy);
        from = first.destRepo;
        after = copy.to;
        rest = missing.slice(1);
      }
      for (const n of rest) {
        mounts.push({
          blob: n.desc,
          to: { host, repository: n.destRepo, digest: n.desc.digest },
          fromRepository: from,
          ...(after ? { after } : {}),
          fallback: n.from,
        });
      }
    }
  }
  copies.sort((a, b) => b.blob.size - a.blob.size);
  return {
    images: plans,
    copies,
    mounts,
    existing,
    bytesToCopy: copies.reduce((s, c) => s + c.blob.size, 0),
  };
}

function imagePlan(
  image: ResolvedImage,
  action: ImagePlan['action'],
  needs: BlobLocation[],
  manifests: ManifestPush[],
): ImagePlan {
  const t = image.task.target;
  const source = formatReference(image.task.source);
  const target = formatReference(t);
  return {
    name: `${source} -> ${target}`,
    source,
    target,
    to: { host: t.registry, repository: t.repository },
    digest: image.root.digest,
    action,
    needs,
    manifests,
  };
}

function uniqueBlobs(image: ResolvedImage): Descriptor[] {
  const seen = new Map<string, Descriptor>();
  for (const i of image.images) for (const b of i.blobs) if (!seen.has(b.digest)) seen.set(b.digest, b);
  return [...seen.values()];
}

/** manifestBodies maps every manifest digest of the resolved images to its bytes (the executor's input). */
export function manifestBodies(images: readonly ResolvedImage[]): Map<string, ResolvedImage['root']> {
  const out = new Map<string, ResolvedImage['root']>();
  for (const i of images) {
    out.set(i.root.digest, i.root);
    for (const n of i.images) out.set(n.raw.digest, n.raw);
  }
  return out;
}

/** describeImage names an image for messages: `source -> target`. */
export function describeImage(image: ResolvedImage): string {
  return `${formatReference(image.task.source)} -> ${formatReference(image.task.target)}`;
}

/** describePlan renders a plan for people (`upload --dry-run`): one line per image, then totals. */
export function describePlan(plan: UploadPlan): string[] {
  const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
  const lines = plan.images.map((p) => {
    if (p.action === 'present') return `present  ${p.name}`;
    const own = (l: BlobLocation): boolean => l.host === p.to.host && l.repository === p.to.repository;
    const copies = plan.copies.filter((c) => own(c.to));
    const mounts = plan.mounts.filter((m) => own(m.to)).length;
    const there = plan.existing.filter(own).length;
    const bytes = copies.reduce((s, c) => s + c.blob.size, 0);
    return `copy     ${p.name}: ${copies.length} blob(s) to copy (${mb(bytes)}), ${mounts} to mount, ${there} already there, ${p.manifests.length} manifest(s)`;
  });
  const copying = plan.images.filter((p) => p.action === 'copy').length;
  lines.push(
    `would copy ${copying} image(s), ${plan.images.length - copying} already present; ` +
      `${mb(plan.bytesToCopy)} in ${plan.copies.length} blob(s), ${plan.mounts.length} mount(s), ${plan.existing.length} blob(s) already there`,
  );
  return lines;
}
