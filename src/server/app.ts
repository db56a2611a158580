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
import { CHALLENGE_HEADER, isNonce, PROOF_HEADER, REGISTRY_ID_HEADER, registryProof } from './announce.js';
import { type BasicAuth, isEmptyBasic } from './auth.js';
import { deleteBlob, getBlob } from './blobs.js';
import { type Exchange, type ServerContext, sendJson } from './context.js';
import { manifestUnknown, RegistryHttpError, toHttpError, unsupported, writeError } from './errors.js';
import { watchBodyRate } from './limits.js';
import { commonLogLine } from './log.js';
import { deleteManifest, getManifest, putManifest } from './manifests.js';
import { checkDigest, checkName, type ManifestRef, parseManifestRef } from './names.js';
import { listReferrers } from './referrers.js';
import { parseRoute, type Route } from './router.js';
import { listCatalog, listTags } from './tags.js';
import { cancelUpload, patchUpload, putUpload, startUpload, uploadStatus } from './uploads.js';

export interface HandlerOptions {
  /** Sent as `Overcloud-Registry-Id`, with a proof, in answer to a challenge (see ./announce.ts). */
  id: string;
  /** The key of that proof. */
  secret: string;
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
      if (READS.has(m)) {
        // A reference that cannot name anything (an invalid tag) is simply not there: 404, as the
        // conformance suite and distribution answer a read.
        const ref = readableManifestRef(route.reference);
        if (ref === undefined) throw manifestUnknown(route.reference);
        return getManifest(ctx, ex, name, ref);
      }
      const ref = parseManifestRef(route.reference);
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

/** readableManifestRef parses a reference for a read; an invalid tag is undefined, a bad digest still throws. */
function readableManifestRef(reference: string): ManifestRef | undefined {
  if (reference.includes(':')) return parseManifestRef(reference);
  try {
    return parseManifestRef(reference);
  } catch {
    return undefined;
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
  remote: string,
): Promise<string | undefined> {
  if (opts.auth === undefined || route.kind === 'health') return undefined;
  const header = req.headers.authorization;
  const user = await opts.auth.verify(header, remote);
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

/** answerChallenge proves this server holds its announce record's secret (see ./announce.ts). */
function answerChallenge(opts: HandlerOptions, req: IncomingMessage, res: ServerResponse): void {
  const nonce = req.headers[CHALLENGE_HEADER];
  if (!isNonce(nonce)) return;
  res.setHeader(REGISTRY_ID_HEADER, opts.id);
  res.setHeader(PROOF_HEADER, registryProof(opts.secret, nonce, opts.id));
}

/** logOnClose writes the access log line once the response is over, from values taken up front. */
function logOnClose(
  log: (line: string) => void,
  req: IncomingMessage,
  res: ServerResponse,
  entry: { remote: string; started: Date; method: string; user: () => string | undefined },
): void {
  // Taken now: by the time a response closes early, Node may have cleared req.socket.
  const url = req.url ?? '';
  const httpVersion = req.httpVersion;
  res.once('close', () => {
    try {
      const len = res.getHeader('content-length');
      log(
        commonLogLine({
          remote: entry.remote,
          user: entry.user(),
          time: entry.started,
          method: entry.method,
          url,
          httpVersion,
          status: res.statusCode,
          bytes: entry.method === 'HEAD' || len === undefined ? undefined : Number(len),
        }),
      );
    } catch {
      // A log sink that throws must not take the server down with it.
    }
  });
}

/**
 * createHandler builds the `request` listener for node:http / node:https. Nothing a request does
 * escapes it: every failure, synchronous or not, becomes an error reply or a closed connection.
 */
export function createHandler(
  ctx: ServerContext,
  opts: HandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const fail = (e: unknown): void => {
      const err = toHttpError(e);
      // A body we did not read would otherwise be drained (perhaps gigabytes) to keep the connection.
      try {
        if (!req.complete && !res.headersSent) res.setHeader('connection', 'close');
        if (err.status >= 500 && opts.log)
          opts.log(
            `error: ${method} ${rawUrl.slice(0, 512)}: ${String(err.detail ?? err.message).slice(0, 512)}`,
          );
      } catch {
        // Logging is best effort; the reply below is not.
      }
      writeError(res, method, err);
    };
    try {
      let user: string | undefined;
      const remote = req.socket?.remoteAddress ?? '-';
      if (opts.log) logOnClose(opts.log, req, res, { remote, started: new Date(), method, user: () => user });
      // A request stream error (a reset mid-body) is reported to whoever reads it; without a
      // listener an unread stream's error would be thrown on the process.
      req.on('error', () => {});
      res.on('error', () => {});
      watchBodyRate(req, res, ctx.minBodyRate, ctx.minBodyRateWindowMs);
      for (const [k, v] of Object.entries(API_VERSION)) res.setHeader(k, v);
      answerChallenge(opts, req, res);
      const q = rawUrl.indexOf('?');
      const ex: Exchange = {
        req,
        res,
        method,
        query: new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1)),
      };
      const run = async (): Promise<void> => {
        const route = parseRoute(q < 0 ? rawUrl : rawUrl.slice(0, q));
        user = await authorize(opts, req, route, remote);
        await dispatch(ctx, ex, route);
      };
      run().catch(fail);
    } catch (e) {
      fail(e);
    }
  };
}
