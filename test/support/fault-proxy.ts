/**
 * @module test/support/fault-proxy
 * An HTTP proxy in front of a real registry that injects faults chosen per request by a rule:
 * canned responses (5xx, 429 with Retry-After, 401 challenges), a connection reset after some
 * bytes of the response body, one flipped byte in it, or a reply lost after the registry acted
 * on the request. Also counts requests for assertions.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ProxiedRequest {
  method: string;
  /** Path and query, as the client sent it. */
  url: string;
  headers: IncomingMessage['headers'];
  /** The registry's status, once it answered (a forwarded request only). */
  status?: number;
}

export type Fault =
  | { respond: { status: number; headers?: Record<string, string>; body?: string } }
  | { resetAfterBytes: number }
  | { flipByteAt: number }
  | { delayMs: number }
  /** The request reaches the registry (which acts on it), but the client hears this status. */
  | { replaceStatus: number };

export type FaultRule = (req: ProxiedRequest) => Fault | undefined;

export interface FaultProxy {
  host: string;
  url: string;
  /** Every request seen, in order (method and url). */
  log: ProxiedRequest[];
  /** Replace the rule while running. */
  setRule(rule: FaultRule | undefined): void;
  close(): Promise<void>;
}

/** startFaultProxy listens on a random loopback port and forwards to `target` (`http://host:port`). */
export async function startFaultProxy(target: string, rule?: FaultRule): Promise<FaultProxy> {
  const t = new URL(target);
  let current = rule;
  const log: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const seen: ProxiedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    log.push(seen);
    const fault = current?.(seen);
    if (fault && 'respond' in fault) {
      req.resume();
      const body = fault.respond.body ?? '';
      res.writeHead(fault.respond.status, {
        'content-length': String(Buffer.byteLength(body)),
        ...fault.respond.headers,
      });
      res.end(body);
      return;
    }
    if (fault && 'delayMs' in fault) {
      req.pause();
      setTimeout(() => forward(seen, req, res, undefined), fault.delayMs);
      return;
    }
    forward(seen, req, res, fault);
  });
  const forward = (
    seen: ProxiedRequest,
    req: IncomingMessage,
    res: ServerResponse,
    fault: Fault | undefined,
  ): void => {
    req.resume();
    const upstream = httpRequest(
      {
        host: t.hostname,
        port: t.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: t.host },
      },
      (up) => {
        seen.status = up.statusCode;
        if (fault && 'replaceStatus' in fault) {
          up.resume();
          up.on('end', () => {
            res.writeHead(fault.replaceStatus, { 'content-length': '0' });
            res.end();
          });
          return;
        }
        // Redirects and Locations must point back at the proxy, or the client would bypass it.
        const headers = { ...up.headers };
        if (typeof headers.location === 'string')
          headers.location = headers.location.replace(t.host, `${addr().address}:${addr().port}`);
        res.writeHead(up.statusCode ?? 502, headers);
        let sent = 0;
        up.on('data', (chunk: Buffer) => {
          let c = chunk;
          if (
            fault &&
            'flipByteAt' in fault &&
            fault.flipByteAt >= sent &&
            fault.flipByteAt < sent + c.length
          ) {
            c = Buffer.from(c);
            const i = fault.flipByteAt - sent;
            c[i] = (c[i] ?? 0) ^ 0xff;
          }
          if (fault && 'resetAfterBytes' in fault && sent + c.length > fault.resetAfterBytes) {
            const keep = Math.max(0, fault.resetAfterBytes - sent);
            res.write(c.subarray(0, keep), () => res.socket?.resetAndDestroy());
            up.destroy();
            sent += keep;
            return;
          }
          sent += c.length;
          if (!res.write(c)) {
            up.pause();
            res.once('drain', () => up.resume());
          }
        });
        up.on('end', () => res.end());
        up.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = (): AddressInfo => server.address() as AddressInfo;
  const host = `127.0.0.1:${addr().port}`;
  return {
    host,
    url: `http://${host}`,
    log,
    setRule(r) {
      current = r;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
