/**
 * @module deploy/readiness
 * What a deploy waits for before it says it is complete: the cloud it deployed is ready to serve.
 * TripleO's last steps did this work (nova_api's step-5 `cell_v2 discover_hosts` after the computes
 * had started); a container being up is not enough: a Linux bridge agent whose first state reports
 * time out is running but not yet alive in Neutron, and a server scheduled then fails to bind its
 * port. The service definitions say what to wait for (`network_agent: <binary>`, TripleO's
 * `cellv2_discovery: true`); this module plans the checks from the deploy plan (pure) and carries
 * them out with a bounded wait, through the Keystone, Neutron and Nova APIs and, for the cell
 * mapping, `nova-manage` in the nova_api container through the node connection.
 */
import { AppError } from '../errors.js';
import type { NodeConnection } from '../process/index.js';
import { type ApiSession, openApiSession } from './openstack-api.js';
import type { DeployPlan, PlanInput } from './plan.js';

/** One network agent the deploy placed: Neutron's binary, the node (its `host`), its container. */
export interface ExpectedAgent {
  binary: string;
  node: string;
  container: string;
}

/** One compute node: its nova-compute service must be up, its host mapped to a cell, listed. */
export interface ExpectedCompute {
  node: string;
  container: string;
}

/** The checks, as plain data (printable; `deploy` runs them after the last step). */
export interface ReadinessPlan {
  agents: ExpectedAgent[];
  computes: ExpectedCompute[];
  /** Keystone's public v3 URL and admin password, from the plan's keystone_bootstrap. */
  keystone?: { authUrl: string; password: string; region: string };
  /** Where `nova-manage cell_v2` runs: NovaApi's bootstrap node and its nova_api container. */
  cells?: { node: string; container: string };
}

const NOVA_API_SERVICE = 'OS::TripleO::Services::NovaApi';
const NOVA_API_CONTAINER = 'nova_api';

const envOf = (list: readonly string[] | undefined, key: string): string | undefined =>
  list?.find((e) => e.startsWith(`${key}=`))?.slice(key.length + 1);

/** planReadiness lists what the deployed services declare to wait for, per node. Pure. */
export function planReadiness(input: PlanInput, plan: DeployPlan): ReadinessPlan {
  const agents: ExpectedAgent[] = [];
  const computes: ExpectedCompute[] = [];
  let keystone: ReadinessPlan['keystone'];
  let cells: ReadinessPlan['cells'];
  for (const n of plan.nodes) {
    const containers = [...n.steps.values()].flat();
    for (const service of n.services) {
      const template = input.templates.get(input.env.resourceRegistry[service] ?? '');
      const own = containers.find((c) => c.service === service && !c.bootstrap && c.spec.detach !== false);
      if (!template || !own) continue;
      const { networkAgent, cellv2Discovery } = template.readiness;
      if (networkAgent) agents.push({ binary: networkAgent, node: n.node.name, container: own.name });
      if (cellv2Discovery) computes.push({ node: n.node.name, container: own.name });
    }
    const ks = containers.find((c) => c.name === 'keystone_bootstrap');
    const url = envOf(ks?.spec.environment, 'KEYSTONE_PUBLIC_URL');
    const password = envOf(ks?.spec.environment, 'KEYSTONE_ADMIN_PASSWORD');
    if (keystone === undefined && url !== undefined && password !== undefined) {
      const region = envOf(ks?.spec.environment, 'KEYSTONE_REGION') ?? 'RegionOne';
      keystone = { authUrl: `${url.replace(/\/+$/, '')}/v3`, password, region };
    }
    if (
      plan.bootstrapNodes[NOVA_API_SERVICE] === n.node.name &&
      containers.some((c) => c.name === NOVA_API_CONTAINER)
    )
      cells = { node: n.node.name, container: NOVA_API_CONTAINER };
  }
  return {
    agents,
    computes,
    ...(keystone === undefined ? {} : { keystone }),
    ...(cells === undefined ? {} : { cells }),
  };
}

/** needsWaiting: false when the deployed services declare nothing to wait for. */
export const needsWaiting = (rp: ReadinessPlan): boolean => rp.agents.length > 0 || rp.computes.length > 0;

export interface ReadinessDeps {
  /** The connection to `rp.cells.node` (when computes are expected). */
  cellsNode?: NodeConnection;
  out: (line: string) => void;
  timeoutMs: number;
  /** Pause between two rounds of checks. */
  intervalMs?: number;
  /** The API client (tests pass a stand-in); default: HTTP to Keystone and its catalogue. */
  session?: (rp: ReadinessPlan) => Promise<ApiSession>;
}

/** What one round found missing: one line per node and thing, for progress and the final error. */
interface Round {
  missing: string[];
  details: string[];
}

/** waitReady checks in rounds until everything is ready or the time is up (then DEPLOY_NOT_READY). */
export async function waitReady(rp: ReadinessPlan, deps: ReadinessDeps): Promise<void> {
  if (!needsWaiting(rp)) return;
  const started = Date.now();
  const deadline = started + deps.timeoutMs;
  const pending = preconditions(rp, deps);
  if (pending) throw new AppError('DEPLOY_NOT_READY', pending);
  let session: ApiSession | undefined;
  let last: Round = { missing: ['no answer from Keystone yet'], details: [] };
  let reported = '';
  for (;;) {
    try {
      session ??= await (deps.session ?? defaultSession)(rp);
      last = await checkRound(rp, session, deps.cellsNode);
    } catch (e) {
      last = { missing: [`the APIs did not answer: ${(e as Error).message}`], details: [] };
    }
    if (last.missing.length === 0) break;
    const now = last.missing.join('; ');
    if (now !== reported) deps.out(`[ready] waiting: ${now}`);
    reported = now;
    if (Date.now() >= deadline) throw notReady(rp, last, deps.timeoutMs);
    await new Promise((r) => setTimeout(r, deps.intervalMs ?? 2000));
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  for (const d of last.details) deps.out(`[ready] ${d}`);
  deps.out(`[ready] the deployed services are ready to serve (${secs} s)`);
}

/** preconditions: what readiness cannot do without (Keystone's values, the nova_api node). */
function preconditions(rp: ReadinessPlan, deps: ReadinessDeps): string | undefined {
  if (!rp.keystone)
    return 'the deploy places network agents or compute nodes but no Keystone to ask about them';
  if (rp.computes.length > 0 && (!rp.cells || !deps.cellsNode))
    return `compute nodes (${rp.computes.map((c) => c.node).join(', ')}) but no nova_api container to map them to a cell`;
  return undefined;
}

const defaultSession = (rp: ReadinessPlan): Promise<ApiSession> => {
  const ks = rp.keystone as NonNullable<ReadinessPlan['keystone']>;
  return openApiSession({
    authUrl: ks.authUrl,
    username: 'admin',
    password: ks.password,
    project: 'admin',
    region: ks.region,
  });
};

/** checkRound asks Neutron, Nova and nova-manage once each and lists what is not ready yet. */
async function checkRound(
  rp: ReadinessPlan,
  api: ApiSession,
  cellsNode: NodeConnection | undefined,
): Promise<Round> {
  const missing: string[] = [];
  const details: string[] = [];
  if (rp.agents.length > 0) {
    const { agents } = await api.get<{ agents: { binary: string; host: string; alive: boolean }[] }>(
      'network',
      '/v2.0/agents',
    );
    const down = rp.agents.filter(
      (a) => !agents.some((x) => x.binary === a.binary && x.host === a.node && x.alive),
    );
    missing.push(...down.map((a) => `${a.node}: ${a.binary} not alive in Neutron`));
    details.push(`network agents alive: ${rp.agents.map((a) => `${a.binary}@${a.node}`).join(', ')}`);
  }
  if (rp.computes.length > 0) {
    const up = await computeServicesUp(api);
    const notUp = rp.computes.filter((c) => !up.has(c.node));
    missing.push(...notUp.map((c) => `${c.node}: nova-compute not up in Nova`));
    if (notUp.length === 0) {
      const cells = await mapToCells(rp, cellsNode as NodeConnection);
      missing.push(...cells.unmapped.map((n) => `${n}: compute host not mapped to a cell`));
      if (cells.discovered.length > 0)
        details.push(`mapped to a cell by cell_v2 discover_hosts: ${cells.discovered.join(', ')}`);
      const listed = await hypervisorHosts(api);
      missing.push(
        ...rp.computes.filter((c) => !listed.has(c.node)).map((c) => `${c.node}: no hypervisor listed`),
      );
      details.push(
        `compute hosts up, mapped to a cell and listed: ${rp.computes.map((c) => c.node).join(', ')}`,
      );
    }
  }
  return { missing, details };
}

async function computeServicesUp(api: ApiSession): Promise<Set<string>> {
  const { services } = await api.get<{
    services: { binary: string; host: string; state: string; status: string }[];
  }>('compute', '/os-services?binary=nova-compute');
  return new Set(services.filter((s) => s.state === 'up').map((s) => s.host));
}

async function hypervisorHosts(api: ApiSession): Promise<Set<string>> {
  const { hypervisors } = await api.get<{ hypervisors: { service?: { host?: string } }[] }>(
    'compute',
    '/os-hypervisors/detail',
  );
  return new Set(hypervisors.map((h) => h.service?.host).filter((h): h is string => h !== undefined));
}

/**
 * mapToCells lists the cell's hosts; when a compute is missing, runs `cell_v2 discover_hosts
 * --by-service` (as TripleO's nova_api step did) and lists again. Says which computes that mapped
 * and which are still unmapped.
 */
async function mapToCells(
  rp: ReadinessPlan,
  conn: NodeConnection,
): Promise<{ unmapped: string[]; discovered: string[] }> {
  const container = (rp.cells as NonNullable<ReadinessPlan['cells']>).container;
  const manage = async (args: string[]): Promise<string> => {
    const r = await conn.podman(['exec', '--user', 'root', container, 'nova-manage', 'cell_v2', ...args], {
      timeoutMs: 120_000,
    });
    if (r.code !== 0) {
      const last = (r.stderr || r.stdout).trim().split('\n').slice(-1)[0] || `exit ${r.code}`;
      throw new AppError(
        'NODE_COMMAND_FAILED',
        `nova-manage cell_v2 ${args.join(' ')} in ${container} on ${conn.node.name}: ${last}`,
      );
    }
    return r.stdout;
  };
  const unmapped = async (): Promise<string[]> => {
    const hosts = mappedHosts(await manage(['list_hosts']));
    return rp.computes.map((c) => c.node).filter((n) => !hosts.has(n));
  };
  const before = await unmapped();
  if (before.length === 0) return { unmapped: [], discovered: [] };
  await manage(['discover_hosts', '--by-service', '--verbose']);
  const after = await unmapped();
  return { unmapped: after, discovered: before.filter((n) => !after.includes(n)) };
}

/** mappedHosts reads the Hostname column of `nova-manage cell_v2 list_hosts`' table. */
export function mappedHosts(table: string): Set<string> {
  const hosts = new Set<string>();
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | Cell Name | Cell UUID | Hostname |  ->  ['', name, uuid, host, '']
    if (cells.length >= 5 && cells[3] && cells[3] !== 'Hostname') hosts.add(cells[3]);
  }
  return hosts;
}

/** notReady names each node and agent that was not ready, and where to look. */
function notReady(rp: ReadinessPlan, last: Round, timeoutMs: number): AppError {
  const logs = new Set<string>();
  for (const line of last.missing) {
    const node = line.slice(0, line.indexOf(':'));
    const agent = rp.agents.find((a) => a.node === node && line.includes(a.binary));
    const compute = rp.computes.find((c) => c.node === node);
    if (agent) logs.add(`overcloud container logs ${node} ${agent.container}`);
    else if (compute) logs.add(`overcloud container logs ${node} ${compute.container}`);
  }
  return new AppError(
    'DEPLOY_NOT_READY',
    `deploy finished its steps but the cloud is not ready after ${Math.round(timeoutMs / 1000)} s: ${last.missing.join('; ')}`,
    {
      hint: `${logs.size > 0 ? `see ${[...logs].join(', ')}; ` : ''}the containers stay as deployed: run the same deploy again to wait again (--ready-timeout SECONDS waits longer)`,
    },
  );
}
