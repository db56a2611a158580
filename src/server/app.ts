/**
 * @module server/app
 * The request handler: authenticate, route, run one endpoint handler, log. Every error, thrown
 * anywhere below, is written here by writeError in the spec's JSON form.
 *
 * Why plain node:http and a small router rather than a framework: blob bodies go from the socket
 * straight to disk (and from disk to the socket) as Node streams, with back-pressure, and no
 * conversion to Web streams on the way; and a registry serving 80 images to many nodes is a
 * throughput job, where every layer between socket and file costs.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { REGISTRY_ID_HEADER } from './announce.js';
import { type BasicAuth, isEmptyBasic } from './auth.js';
import { deleteBlob, getBlob } from './blobs.js';
import { type Exchange, type ServerContext, sendJson } from './context.js';
import { RegistryHttpError, toHttpError, unsupported, writeError } from './errors.js';
import { commonLogLine } from './log.js';
import { deleteManifest, getManifest, putManifest } from './manifests.js';
import { checkDigest, checkName, parseManifestRef } from './names.js';
import { listReferrers } from './referrers.js';
import { parseRoute, type Route } from './router.js';
import { listCatalog, listTags } from './tags.js';
import { cancelUpload, patchUpload, putUpload, startUpload, uploadStatus } from './uploads.js';

export interface HandlerOptions {
  /** Sent on every response as `Overcloud-Registry-Id` (see ./announce.ts). */
  id: string;
  auth: BasicAuth | undefined;
  allowAnonymousPull: boolean;
  log: ((line: string) => void) | undefined;
}

const API_VERSION = { 'docker-distribution-api-version': 'registry/2.0' };
const READS = new Set(['GET', 'HEAD']);

const notAllowed = (): RegistryHttpError => unsupported('method not allowed on this endpoint');

/** dispatch runs the endpoint for a route and method. */
async function dispatch(ctx: ServerContext, ex: Exchange, route: Route): Promise<void> {
  const m = ex.method;
  if (!READS.has(m) && ctx.readOnly && route.kind !== 'none') {
    throw new RegistryHttpError(405, 'UNSUPPORTED', 'the registry is read-only');
  }
  switch (route.kind) {
    case 'base':
      if (!READS.has(m)) throw notAllowed();
      return sendJson(ex, 200, {});
    case 'health':
      return sendJson(ex, 200, { status: 'ok' });
    case 'catalog':
      if (!READS.has(m)) throw notAllowed();
      return listCatalog(ctx, ex);
    case 'tags':
      if (!READS.has(m)) throw notAllowed();
      return listTags(ctx, ex, checkName(route.name));
    case 'manifest': {
      const name = checkName(route.name);
      const ref = parseManifestRef(route.reference);
      if (READS.has(m)) return getManifest(ctx, ex, name, ref);
      if (m === 'PUT') return putManifest(ctx, ex, name, ref);
      if (m === 'DELETE') return deleteManifest(ctx, ex, name, ref);
      throw notAllowed();
    }
    case 'blob': {
      const name = checkName(route.name);
      const digest = checkDigest(route.digest);
      if (READS.has(m)) return getBlob(ctx, ex, name, digest);
      if (m === 'DELETE') return deleteBlob(ctx, ex, name, digest);
      throw notAllowed();
    }
    case 'uploads':
      if (m !== 'POST') throw notAllowed();
      return startUpload(ctx, ex, checkName(route.name));
    case 'upload': {
      const name = checkName(route.name);
      if (m === 'GET') return uploadStatus(ctx, ex, name, route.id);
      if (m === 'PATCH') return patchUpload(ctx, ex, name, route.id);
      if (m === 'PUT') return putUpload(ctx, ex, name, route.id);
      if (m === 'DELETE') return cancelUpload(ctx, ex, name, route.id);
      throw notAllowed();
    }
    case 'referrers':
      if (!READS.has(m)) throw notAllowed();
      return listReferrers(ctx, ex, checkName(route.name), checkDigest(route.digest));
    case 'none':
      throw new RegistryHttpError(404, 'NAME_UNKNOWN', 'no such endpoint', { detail: { path: ex.req.url } });
  }
}

/**
 * authorize decides who may do what: with an htpasswd file every request needs valid credentials,
 * except reads (GET/HEAD below /v2/<name>/ and the catalog) when anonymous pulls are allowed.
 * `/v2/` itself always asks, so that clients learn the challenge before they push.
 */
async function authorize(
  opts: HandlerOptions,
  req: IncomingMessage,
  route: Route,
): Promise<string | undefined> {
  if (opts.auth === undefined || route.kind === 'health') return undefined;
  const header = req.headers.authorization;
  const user = await opts.auth.verify(header);
  if (user !== undefined) return user;
  const anonymousRead =
    (header === undefined || isEmptyBasic(header)) &&
    opts.allowAnonymousPull &&
    READS.has(req.method ?? '') &&
    route.kind !== 'base';
  if (anonymousRead) return undefined;
  throw new RegistryHttpError(401, 'UNAUTHORIZED', 'authentication required', {
    headers: { 'www-authenticate': 'Basic realm="overcloud-registry", charset="UTF-8"' },
  });
}

/** createHandler builds the `request` listener for node:http / node:https. */
export function createHandler(
  ctx: ServerContext,
  opts: HandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = new Date();
    let user: string | undefined;
    const method = req.method ?? 'GET';
    if (opts.log) {
      const log = opts.log;
      res.once('close', () => {
        const len = res.getHeader('content-length');
        log(
          commonLogLine({
            remote: req.socket.remoteAddress,
            user,
            time: started,
            method,
            url: req.url ?? '',
            httpVersion: req.httpVersion,
            status: res.statusCode,
            bytes: method === 'HEAD' || len === undefined ? undefined : Number(len),
          }),
        );
      });
    }
    for (const [k, v] of Object.entries(API_VERSION)) res.setHeader(k, v);
    res.setHeader(REGISTRY_ID_HEADER, opts.id);
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const ex: Exchange = {
      req,
      res,
      method,
      query: new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1)),
    };
    const run = async (): Promise<void> => {
      const route = parseRoute(q < 0 ? rawUrl : rawUrl.slice(0, q));
      user = await authorize(opts, req, route);
      await dispatch(ctx, ex, route);
    };
    run().catch((e: unknown) => {
      const err = toHttpError(e);
      // A body we did not read would otherwise be drained (perhaps gigabytes) to keep the connection.
      if (!req.complete) res.setHeader('connection', 'close');
      if (err.status >= 500 && opts.log)
        opts.log(`error: ${method} ${rawUrl}: ${String(err.detail ?? err.message)}`);
      writeError(res, method, err);
    });
  };
}
