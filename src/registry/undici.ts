/**
 * @module registry/undici
 * The one import of the undici package, and only the two parts this client uses: the Agent
 * (connection pools) and the request API. undici's index also loads fetch, WebSocket, cookies,
 * caches and mocks, and installs its Agent as the process-wide dispatcher; its cookies module
 * touches `globalThis.Headers`, which makes Node load its own bundled undici as well. Importing the
 * two files directly costs each registry command about 50 ms less, and leaves Node's global fetch
 * alone (undici v7's Agent under Node 20's fetch broke requests with an explicit content-length).
 * The package has no `exports` map: these paths are files it publishes (typed in src/types/).
 *
 * Private files can move in any release, so package.json pins undici exactly (7.30.2): an upgrade
 * is a deliberate change that runs test/registry and test/upload. Measured (CPU time, median of
 * 11, 2026-12-04, loaded 2-core machine): `container image upload --help` costs the same either
 * way (the registry loads only when the command runs); a command that loads the client costs
 * ~15-25 ms more through undici's index, and that index also installs its Agent as Node's
 * global dispatcher. So the deep imports stay.
 */
import type { Dispatcher } from 'undici';
import apiRequest from 'undici/lib/api/api-request.js';
import Agent from 'undici/lib/dispatcher/agent.js';

export { Agent, type Dispatcher };

export type RequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
  method?: Dispatcher.HttpMethod;
  /** Where the request goes; without one, a shared default Agent. */
  dispatcher?: Dispatcher;
};

let fallback: Dispatcher | undefined;

/** defaultDispatcher is the Agent for requests that name none, made on first use. */
function defaultDispatcher(): Dispatcher {
  fallback ??= new Agent();
  return fallback;
}

/** request is undici's `request(url, opts)`, without its process-wide dispatcher. */
export function request(url: string | URL, opts: RequestOptions = {}): Promise<Dispatcher.ResponseData> {
  const u = typeof url === 'string' ? new URL(url) : url;
  const { dispatcher, ...rest } = opts;
  return apiRequest.call(dispatcher ?? defaultDispatcher(), {
    ...rest,
    origin: u.origin,
    path: `${u.pathname}${u.search}`,
    method: opts.method ?? 'GET',
  });
}
