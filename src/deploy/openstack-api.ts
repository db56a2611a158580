/**
 * @module deploy/openstack-api
 * The few OpenStack API calls the deploy's readiness checks make, over plain HTTP: a Keystone v3
 * password token with its catalogue, then GETs of JSON at the public endpoint of a service type. No
 * client library: the deploy host needs no python-openstackclient for this (validate does).
 */
import { AppError } from '../errors.js';

export interface Credentials {
  authUrl: string;
  username: string;
  password: string;
  project: string;
  region: string;
}

export interface ApiSession {
  /** get fetches JSON at `path` under the public endpoint of a catalogue service type. */
  get<T>(serviceType: string, path: string): Promise<T>;
}

interface CatalogEntry {
  type: string;
  endpoints: { interface: string; region?: string; region_id?: string; url: string }[];
}

const REQUEST_TIMEOUT_MS = 15_000;

/** openApiSession authenticates once; a token lives an hour, longer than any readiness wait. */
export async function openApiSession(c: Credentials): Promise<ApiSession> {
  const res = await fetch(`${c.authUrl.replace(/\/+$/, '')}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: c.username, domain: { name: 'Default' }, password: c.password } },
        },
        scope: { project: { name: c.project, domain: { name: 'Default' } } },
      },
    }),
  });
  const token = res.headers.get('x-subject-token');
  if (res.status !== 201 || token === null) {
    throw new AppError(
      'DEPLOY_NOT_READY',
      `Keystone at ${c.authUrl} answered ${res.status} to a token request`,
    );
  }
  const body = (await res.json()) as { token?: { catalog?: CatalogEntry[] } };
  const catalog = body.token?.catalog ?? [];
  const endpoint = (type: string): string => {
    const entry = catalog.find((e) => e.type === type);
    const ep = entry?.endpoints.find(
      (e) => e.interface === 'public' && (e.region ?? e.region_id ?? c.region) === c.region,
    );
    if (!ep)
      throw new AppError(
        'DEPLOY_NOT_READY',
        `the Keystone catalogue has no public ${type} endpoint in ${c.region}`,
      );
    return ep.url.replace(/\/+$/, '');
  };
  return {
    async get<T>(serviceType: string, path: string): Promise<T> {
      const url = `${endpoint(serviceType)}${path}`;
      const r = await fetch(url, {
        headers: { 'x-auth-token': token, accept: 'application/json' },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (r.status !== 200) throw new AppError('DEPLOY_NOT_READY', `GET ${url} answered ${r.status}`);
      return (await r.json()) as T;
    },
  };
}
