/**
 * @module registry/session
 * A RegistrySession is one run's view of all registries: one transport (TLS policy and connection
 * pools), one credential store, and one client (with its auth state and tokens) per host.
 */

import { RegistryClient } from './client.js';
import { type CredentialStore, loadCredentials } from './credentials.js';
import { RegistryHttp } from './http.js';
import { DEFAULT_RETRY, type RetryOptions } from './options.js';
import { Transport, type TransportOptions } from './transport.js';

export interface SessionOptions extends TransportOptions {
  /** `--authfile`; the standard places are searched after it. */
  authfile?: string;
  /** Overrides the auth files altogether (tests). */
  credentials?: CredentialStore;
  retry?: RetryOptions;
}

export class RegistrySession {
  readonly transport: Transport;
  private readonly creds: CredentialStore;
  private readonly clients = new Map<string, RegistryClient>();
  readonly retryOptions: RetryOptions;

  constructor(opts: SessionOptions = {}) {
    this.transport = new Transport(opts);
    this.creds = opts.credentials ?? loadCredentials(opts.authfile);
    this.retryOptions = opts.retry ?? DEFAULT_RETRY;
  }

  /** client returns the one client for a registry host. */
  client(host: string): RegistryClient {
    let c = this.clients.get(host);
    if (!c) {
      c = new RegistryClient(
        new RegistryHttp(host, this.transport, this.creds(host), this.retryOptions),
        this.retryOptions,
      );
      this.clients.set(host, c);
    }
    return c;
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}
