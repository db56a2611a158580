/**
 * @module validate/checks
 * What `overcloud validate` proves, one check per capability, each through the `openstack` client
 * (Horizon through its login form). Checks share what they create (the image boots the server, the
 * network carries it) and clean it up at the end. Which checks run follows the deployed services.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import type { Check, CheckContext } from './check-types.js';
import type { ServiceMap } from './overcloudrc.js';
import { fail, poll } from './poll.js';
import { SERVICE_CHECKS } from './service-checks.js';

export type { Check, CheckContext } from './check-types.js';

export const CATALOGUE_TYPES: Record<string, string> = {
  Keystone: 'identity',
  GlanceApi: 'image',
  NovaApi: 'compute',
  NovaPlacement: 'placement',
  NeutronApi: 'network',
  NeutronServer: 'network',
  HeatApi: 'orchestration',
  HeatApiCfn: 'cloudformation',
  SwiftProxy: 'object-store',
  Horizon: 'dashboard',
};

/** Binaries `compute service list` shows, by the service that runs them. */
const NOVA_BINARIES: Record<string, string> = {
  NovaConductor: 'nova-conductor',
  NovaScheduler: 'nova-scheduler',
  NovaCompute: 'nova-compute',
};
/** Binaries `network agent list` shows, by the service that runs them. */
const NEUTRON_AGENTS: Record<string, string> = {
  NeutronDhcpAgent: 'neutron-dhcp-agent',
  NeutronL3Agent: 'neutron-l3-agent',
  NeutronMetadataAgent: 'neutron-metadata-agent',
  NeutronLinuxbridgeAgent: 'neutron-linuxbridge-agent',
  ComputeNeutronLinuxbridgeAgent: 'neutron-linuxbridge-agent',
  NeutronOvsAgent: 'neutron-openvswitch-agent',
  ComputeNeutronOvsAgent: 'neutron-openvswitch-agent',
};

/** expected lists [binary, host] pairs for the deployed services in a binary table. */
function expected(services: ServiceMap, table: Record<string, string>): [string, string][] {
  const out = new Set<string>();
  for (const [svc, bin] of Object.entries(table))
    for (const n of services[svc] ?? []) out.add(`${bin}\t${n}`);
  return [...out].sort().map((s) => s.split('\t') as [string, string]);
}

export const CHECKS: Check[] = [
  {
    name: 'token',
    title: 'token issue',
    service: 'keystone',
    containers: ['keystone', 'haproxy'],
    types: ['identity'],
    when: [['Keystone']],
    async run({ os }) {
      const t = await os.json<{ id?: string; expires?: string }>(['token', 'issue']);
      if (!t.id) fail('no token id in the answer');
      return `expires ${t.expires ?? '?'}`;
    },
  },
  {
    name: 'catalogue',
    title: 'catalogue lists the deployed services',
    service: 'keystone',
    containers: ['keystone'],
    types: ['identity'],
    when: [['Keystone']],
    async run({ os, expectTypes }) {
      const list = await os.json<{ Name: string; Type: string }[]>(['catalog', 'list']);
      const have = new Set(list.map((e) => e.Type));
      const missing = expectTypes.filter((t) => !have.has(t));
      if (missing.length > 0)
        fail(`catalogue lacks ${missing.join(', ')} (has ${[...have].sort().join(', ')})`);
      return [...have].sort().join(', ');
    },
  },
  {
    name: 'compute-services',
    title: 'compute service list: every service up on its node',
    service: 'nova',
    containers: ['nova_conductor', 'nova_scheduler', 'nova_compute'],
    types: ['compute'],
    when: [['NovaApi']],
    async run({ os, services }) {
      const want = expected(services, NOVA_BINARIES);
      const rows = await poll('every nova service up', 120_000, async () => {
        const r = await os.json<{ Binary: string; Host: string; State: string; Status: string }[]>([
          'compute',
          'service',
          'list',
        ]);
        return want.every(([b, h]) => r.some((x) => x.Binary === b && x.Host === h && x.State === 'up'))
          ? r
          : undefined;
      });
      return rows.map((x) => `${x.Binary}@${x.Host} ${x.State}`).join(', ');
    },
  },
  {
    name: 'network-agents',
    title: 'network agent list: every agent alive on its node',
    service: 'neutron',
    containers: ['neutron_api', 'neutron_dhcp', 'neutron_linuxbridge_agent'],
    types: ['network'],
    when: [['NeutronApi'], ['NeutronServer']],
    async run({ os, services }) {
      const want = expected(services, NEUTRON_AGENTS);
      const rows = await poll('every neutron agent alive', 120_000, async () => {
        const r = await os.json<
          { Binary: string; Host: string; Alive: boolean | string; State: boolean | string }[]
        >(['network', 'agent', 'list']);
        const alive = (x: { Alive: boolean | string }) => x.Alive === true || x.Alive === ':-)';
        return want.every(([b, h]) => r.some((x) => x.Binary === b && x.Host === h && alive(x)))
          ? r
          : undefined;
      });
      return rows.map((x) => `${x.Binary}@${x.Host}`).join(', ');
    },
  },
  {
    name: 'image',
    title: 'image created and downloaded back byte for byte',
    service: 'glance',
    containers: ['glance_api'],
    types: ['image'],
    when: [['GlanceApi']],
    async run(ctx) {
      const src = join(ctx.scratch, 'image.raw');
      const back = join(ctx.scratch, 'image.back');
      // 1 MiB of random bytes: any truncation or corruption changes the digest.
      const data = randomBytes(1 << 20);
      await writeFile(src, data);
      const img = await ctx.os.json<{ id: string; status: string }>([
        'image',
        'create',
        '--disk-format',
        'raw',
        '--container-format',
        'bare',
        '--file',
        src,
        `validate-${ctx.tag}`,
      ]);
      ctx.made.imageId = img.id;
      await ctx.os.run(['image', 'save', '--file', back, img.id]);
      const a = createHash('sha256').update(data).digest('hex');
      const b = createHash('sha256')
        .update(await readFile(back))
        .digest('hex');
      if (a !== b) fail(`downloaded image differs: sha256 ${b} != ${a}`);
      return `1 MiB, sha256 ${a.slice(0, 16)}…`;
    },
  },
  {
    name: 'network',
    title: 'network and subnet created',
    service: 'neutron',
    containers: ['neutron_api'],
    types: ['network'],
    when: [['NeutronApi'], ['NeutronServer']],
    async run(ctx) {
      const net = await ctx.os.json<{ id: string; status: string }>([
        'network',
        'create',
        `validate-${ctx.tag}`,
      ]);
      ctx.made.networkId = net.id;
      const sub = await ctx.os.json<{ id: string; cidr: string }>([
        'subnet',
        'create',
        '--network',
        net.id,
        '--subnet-range',
        '192.0.2.0/24',
        `validate-${ctx.tag}`,
      ]);
      ctx.made.subnetId = sub.id;
      return `network ${net.id.slice(0, 8)}, subnet ${sub.cidr}`;
    },
  },
  {
    name: 'server',
    title: 'server ACTIVE on the compute node, port bound on the network',
    service: 'nova',
    containers: [
      'nova_api',
      'nova_conductor',
      'nova_scheduler',
      'nova_compute',
      'placement_api',
      'neutron_api',
    ],
    types: ['compute', 'placement', 'network', 'image'],
    when: [['NovaApi', 'NovaCompute', 'GlanceApi']],
    // Not before the agents are alive and the computes up: a port cannot bind to a host whose L2
    // agent Neutron has not heard from (PortBindingFailed), whatever the deploy said.
    after: ['image', 'network', 'network-agents', 'compute-services'],
    async run(ctx) {
      if (!ctx.made.imageId || !ctx.made.networkId) fail('needs the image and network checks to have passed');
      const flavor = await ctx.os.json<{ id: string }>([
        'flavor',
        'create',
        '--ram',
        '64',
        '--disk',
        '1',
        '--vcpus',
        '1',
        `validate-${ctx.tag}`,
      ]);
      ctx.made.flavorId = flavor.id;
      const created = await ctx.os.json<{ id: string }>([
        'server',
        'create',
        '--image',
        ctx.made.imageId as string,
        '--flavor',
        flavor.id,
        '--network',
        ctx.made.networkId as string,
        `validate-${ctx.tag}`,
      ]);
      ctx.made.serverId = created.id;
      const server = await poll('server ACTIVE', 180_000, async () => {
        const s = await ctx.os.json<Record<string, unknown>>(['server', 'show', created.id]);
        if (s.status === 'ERROR') fail(`server went to ERROR: ${JSON.stringify(s.fault ?? '')}`);
        return s.status === 'ACTIVE' ? s : undefined;
      });
      const host = String(server['OS-EXT-SRV-ATTR:host'] ?? '');
      const computes = ctx.services.NovaCompute ?? [];
      if (!computes.includes(host))
        fail(`server is on ${host}, not on a compute node (${computes.join(', ')})`);
      const ports = await ctx.os.json<{ ID: string }[]>(['port', 'list', '--server', created.id]);
      if (ports.length !== 1) fail(`server has ${ports.length} ports`);
      const port = await ctx.os.json<Record<string, unknown>>([
        'port',
        'show',
        (ports[0] as { ID: string }).ID,
      ]);
      const vif = String(port.binding_vif_type ?? '');
      if (port.network_id !== ctx.made.networkId) fail(`port is on network ${String(port.network_id)}`);
      if (vif === 'binding_failed' || vif === 'unbound' || port.binding_host_id !== host)
        fail(`port not bound on ${host}: vif_type ${vif}, host ${String(port.binding_host_id)}`);
      return `on ${host}, port vif_type ${vif}`;
    },
  },
  {
    name: 'stack',
    title: 'Heat stack creating a network reaches CREATE_COMPLETE',
    service: 'heat',
    containers: ['heat_api', 'heat_engine'],
    types: ['orchestration', 'network'],
    when: [['HeatEngine']],
    async run(ctx) {
      const tpl = join(ctx.scratch, 'stack.yaml');
      await writeFile(
        tpl,
        'heat_template_version: 2018-08-31\nresources:\n  net:\n    type: OS::Neutron::Net\n  name:\n    type: OS::Heat::RandomString\n',
      );
      const name = `validate-${ctx.tag}`;
      await ctx.os.run(['stack', 'create', '-t', tpl, name]);
      const s = await poll('stack CREATE_COMPLETE', 180_000, async () => {
        const r = await ctx.os.json<{ stack_status: string; stack_status_reason: string }>([
          'stack',
          'show',
          name,
        ]);
        if (r.stack_status === 'CREATE_FAILED') fail(`CREATE_FAILED: ${r.stack_status_reason}`);
        return r.stack_status === 'CREATE_COMPLETE' ? r : undefined;
      });
      await ctx.os.run(['stack', 'delete', '--yes', '--wait', name]).catch(() => undefined);
      return s.stack_status;
    },
  },
  {
    name: 'horizon',
    title: 'Horizon login through its form',
    service: 'horizon',
    containers: ['horizon'],
    types: ['dashboard'],
    when: [['Horizon']],
    async run({ rc }) {
      const base = `http://${new URL(rc.OS_AUTH_URL as string).hostname}/horizon`;
      // HAProxy marks a restarted backend up only after its checks pass: 502/503 is retried briefly.
      const page = await poll('the login page', 60_000, async () => {
        const r = await fetch(`${base}/auth/login/`, { redirect: 'manual' });
        if (r.status === 502 || r.status === 503) {
          await r.arrayBuffer();
          return fail(`login page: HTTP ${r.status}`);
        }
        return r;
      });
      const html = await page.text();
      const cookies = (page.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
      const token = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(html)?.[1];
      if (page.status !== 200 || !token)
        fail(`login page: HTTP ${page.status}, csrf token ${token ? 'found' : 'missing'}`);
      const body = new URLSearchParams({
        csrfmiddlewaretoken: token as string,
        region: /name="region"[^>]*value="([^"]*)"/.exec(html)?.[1] ?? 'default',
        domain: 'Default',
        username: rc.OS_USERNAME ?? 'admin',
        password: rc.OS_PASSWORD ?? '',
      });
      const post = await fetch(`${base}/auth/login/`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: cookies,
          referer: `${base}/auth/login/`,
        },
        body,
      });
      await post.arrayBuffer();
      const where = post.headers.get('location') ?? '';
      if (post.status !== 302 || /auth\/login/.test(where))
        fail(`login answered HTTP ${post.status} -> ${where || '(no redirect)'}`);
      return `302 -> ${where}`;
    },
  },
  ...SERVICE_CHECKS,
];

/** selectChecks picks checks by name (--only) or by the deployed services. */
export function selectChecks(only: string[] | undefined, services: ServiceMap | undefined): Check[] {
  if (only && only.length > 0) {
    const unknown = only.filter((n) => !CHECKS.some((c) => c.name === n));
    if (unknown.length > 0)
      throw new AppError('USAGE', `unknown check(s): ${unknown.join(', ')}`, {
        hint: `checks: ${CHECKS.map((c) => c.name).join(', ')}`,
      });
    return CHECKS.filter((c) => only.includes(c.name));
  }
  if (!services) return CHECKS;
  return CHECKS.filter((c) => c.when.some((all) => all.every((s) => services[s] !== undefined)));
}

/** cleanup deletes what the checks created, newest first; failures are reported, not thrown. */
export async function cleanup(ctx: CheckContext): Promise<string[]> {
  const problems: string[] = [];
  const del = async (args: string[]) => {
    await ctx.os.run(args).catch((e: Error) => problems.push(e.message.split('\n')[0] ?? ''));
  };
  if (ctx.made.serverId) await del(['server', 'delete', '--wait', ctx.made.serverId]);
  if (ctx.made.routerId && ctx.made.subnetId)
    await del(['router', 'remove', 'subnet', ctx.made.routerId, ctx.made.subnetId]);
  if (ctx.made.routerId) await del(['router', 'delete', ctx.made.routerId]);
  if (ctx.made.swiftContainer) await del(['container', 'delete', '--recursive', ctx.made.swiftContainer]);
  if (ctx.made.flavorId) await del(['flavor', 'delete', ctx.made.flavorId]);
  if (ctx.made.networkId) await del(['network', 'delete', ctx.made.networkId]);
  if (ctx.made.imageId) await del(['image', 'delete', ctx.made.imageId]);
  return problems;
}
