/**
 * @module registry/transport
 * How to reach a registry: verified HTTPS by default; plain HTTP for loopback (as docker does);
 * for registries named insecure, HTTPS without verification, falling back to plain HTTP when
 * the peer does not speak TLS. One undici Agent per TLS mode keeps connections alive across calls.
 */

import { netCode, networkError } from './errors.js';
import { BODY_TIMEOUT_MS, CONNECT_TIMEOUT_MS, HEADERS_TIMEOUT_MS } from './options.js';
import { readInsecureRegistries } from './registries-conf.js';
import { Agent, type Dispatcher, request } from './undici.js';

export type Scheme = 'https' | 'https-unverified' | 'http';
export type Probe = Scheme | 'unreachable';

export interface TransportOptions {
  /** Hosts (or `host/namespace` prefixes) named insecure by the caller. */
  insecure?: string[];
  /** false: treat every registry as insecure (`--tls-verify=false`). */
  tlsVerify?: boolean;
  /** Read /etc/containers/registries.conf(.d); tests turn it off. Default true. */
  registriesConf?: boolean;
}

/** isLoopbackHost: 127.0.0.0/8, ::1 and localhost, with or without a port. */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

function hostOnly(host: string): string {
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
}

/** Transport decides schemes per host and owns the connection pools. */
export class Transport {
  private readonly insecure: string[];
  private readonly tlsVerify: boolean;
  private readonly schemes = new Map<string, Promise<Scheme>>();
  private verified: Agent | undefined;
  private unverified: Agent | undefined;

  constructor(opts: TransportOptions = {}) {
    this.insecure = [
      ...(opts.insecure ?? []),
      ...(opts.registriesConf === false ? [] : readInsecureRegistries()),
    ];
    this.tlsVerify = opts.tlsVerify ?? true;
  }

  /** isInsecure: named by flag, registries.conf (exact host, host without port, or a prefix). */
  isInsecure(host: string): boolean {
    if (!this.tlsVerify) return true;
    return this.insecure.some((i) => i === host || i === hostOnly(host) || i.split('/')[0] === host);
  }

  /** scheme picks (once per host) how to talk to it. */
  scheme(host: string): Promise<Scheme> {
    let s = this.schemes.get(host);
    if (!s) {
      s = this.decide(host);
      this.schemes.set(host, s);
    }
    return s;
  }

  private async decide(host: string): Promise<Scheme> {
    if (isLoopbackHost(host)) {
      // Plain HTTP on loopback, as docker assumes; a TLS registry there is still found, unverified.
      if ((await this.probeOnce(host, 'http')) !== 'wrong-scheme') return 'http';
      return (await this.probeOnce(host, 'https-unverified')) === 'ok' ? 'https-unverified' : 'http';
    }
    if (!this.isInsecure(host)) return 'https';
    // Insecure means "TLS if it has it, unverified; else plain HTTP", as docker and podman do.
    const p = await this.probeOnce(host, 'https-unverified');
    return p === 'wrong-scheme' ? 'http' : 'https-unverified';
  }

  /** baseUrl is `scheme://host` for the chosen scheme. */
  static baseUrl(host: string, scheme: Scheme): string {
    // docker.io is a name, not an endpoint.
    const h = host === 'docker.io' ? 'registry-1.docker.io' : host;
    return `${scheme === 'http' ? 'http' : 'https'}://${h}`;
  }

  dispatcher(scheme: Scheme): Dispatcher {
    const common = {
      headersTimeout: HEADERS_TIMEOUT_MS,
      bodyTimeout: BODY_TIMEOUT_MS,
      keepAliveTimeout: 30_000,
    };
    if (scheme === 'https-unverified') {
      this.unverified ??= new Agent({
        ...common,
        connect: { timeout: CONNECT_TIMEOUT_MS, rejectUnauthorized: false },
      });
      return this.unverified;
    }
    this.verified ??= new Agent({ ...common, connect: { timeout: CONNECT_TIMEOUT_MS } });
    return this.verified;
  }

  /**
   * probeOnce asks `/v2/` once: 'ok' (any HTTP answer), 'cert' (TLS but not trusted),
   * 'wrong-scheme' (TLS to a plain peer, or plain to a TLS peer) or 'down'.
   */
  async probeOnce(host: string, scheme: Scheme): Promise<'ok' | 'cert' | 'wrong-scheme' | 'down'> {
    const url = new URL('/v2/', Transport.baseUrl(host, scheme));
    try {
      const res = await request(url, {
        method: 'GET',
        dispatcher: this.dispatcher(scheme),
        headersTimeout: 5_000,
        bodyTimeout: 5_000,
      });
      const body = await res.body.text();
      // Go's TLS servers answer plain HTTP with 400 "Client sent an HTTP request to an HTTPS server".
      if (scheme === 'http' && res.statusCode === 400 && /HTTPS server/i.test(body)) return 'wrong-scheme';
      return 'ok';
    } catch (e) {
      const err = networkError(e, 'GET', url);
      if (err.code === 'TLS_MISMATCH')
        return /does not speak TLS/.test(err.message) ? 'wrong-scheme' : 'cert';
      const code = netCode(e);
      // Node's TLS servers just hang up on plain HTTP; plain servers hang up on a TLS hello.
      if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'wrong-scheme';
      return 'down';
    }
  }

  /** close ends the pools; anything still in flight is abandoned (the run is over). */
  async close(): Promise<void> {
    await Promise.all([this.verified?.destroy(), this.unverified?.destroy()]);
  }
}

/**
 * probeRegistryTransport finds how a registry answers `/v2/`: verified HTTPS, HTTPS only without
 * verification, plain HTTP, or not at all. Prepare uses it to fill DockerInsecureRegistryAddress.
 */
export async function probeRegistryTransport(host: string): Promise<Probe> {
  const t = new Transport({ registriesConf: false });
  try {
    const https = await t.probeOnce(host, 'https');
    if (https === 'ok') return 'https';
    if (https === 'cert' && (await t.probeOnce(host, 'https-unverified')) === 'ok') return 'https-unverified';
    if ((await t.probeOnce(host, 'http')) === 'ok') return 'http';
    return 'unreachable';
  } finally {
    await t.close();
  }
}
