/**
 * @module validate/service-checks
 * Checks of the services beyond the containers_minimal set, each selected only when its service is
 * deployed: Redis through HAProxy with its password, Heat's CloudFormation API (version document
 * and its AWS-style error for an unsigned call), a router with a subnet interface in its namespace
 * on the L3 agent's node, Nova's metadata API as the controller sees it, a noVNC console URL through
 * HAProxy, a Swift object round trip, and logrotate's view of /var/log/containers on every node.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import type { Check, CheckContext } from './check-types.js';
import { fail, poll } from './poll.js';

/** publicHost is the host of the public endpoints (HAProxy on the controller), from the rc's auth URL. */
const publicHost = (ctx: CheckContext): string => new URL(ctx.rc.OS_AUTH_URL as string).hostname;

/** redisTalk sends inline commands one at a time and returns each reply's first line. */
export function redisTalk(
  host: string,
  port: number,
  commands: string[],
  timeoutMs = 10_000,
): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const replies: string[] = [];
    let buf = '';
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new AppError('VALIDATE_FAILED', `redis ${host}:${port}: no answer in ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const next = (): void => {
      const cmd = commands[replies.length];
      if (cmd === undefined) {
        clearTimeout(timer);
        sock.end();
        resolve(replies);
      } else sock.write(`${cmd}\r\n`);
    };
    sock.on('connect', next);
    sock.on('data', (b: Buffer) => {
      buf += b.toString('utf8');
      for (;;) {
        const i = buf.indexOf('\r\n');
        if (i < 0) break;
        let line = buf.slice(0, i);
        // A bulk string ($N) is followed by its value line.
        if (/^\$\d+$/.test(line)) {
          const j = buf.indexOf('\r\n', i + 2);
          if (j < 0) break;
          line = buf.slice(i + 2, j);
          buf = buf.slice(j + 2);
        } else buf = buf.slice(i + 2);
        replies.push(line);
        next();
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(new AppError('VALIDATE_FAILED', `redis ${host}:${port}: ${e.message}`));
    });
  });
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export const SERVICE_CHECKS: Check[] = [
  {
    name: 'logrotate',
    title: "logrotate's configuration parses and covers /var/log/containers on every node",
    service: 'logrotate_crond',
    containers: ['logrotate_crond'],
    types: [],
    when: [['ContainersLogrotateCrond']],
    async run(ctx) {
      const nodes = ctx.services.ContainersLogrotateCrond ?? [];
      const seen: string[] = [];
      for (const node of nodes) {
        // --debug: what a run would do, changing nothing (its own state file, thrown away).
        const out = await ctx.nodes.shell(
          node,
          'podman exec logrotate_crond logrotate --debug -s /tmp/validate.status /etc/logrotate-crond.conf 2>&1',
        );
        const logs = [...out.matchAll(/considering log (\/var\/log\/containers\/\S+)/g)].length;
        if (logs === 0)
          fail(`${node}: logrotate considers no file under /var/log/containers: ${out.slice(0, 200)}`);
        seen.push(`${node}: ${logs} log files`);
      }
      return seen.join(', ');
    },
  },
  {
    name: 'object-store',
    title: 'Swift object stored and read back byte for byte through the proxy',
    service: 'swift',
    containers: ['swift_proxy', 'swift_account_server', 'swift_container_server', 'swift_object_server'],
    types: ['object-store'],
    when: [['SwiftProxy', 'SwiftStorage']],
    async run(ctx) {
      const src = join(ctx.scratch, 'object.bin');
      const back = join(ctx.scratch, 'object.back');
      // 256 KiB of random bytes: any truncation or corruption changes the digest.
      const data = randomBytes(256 << 10);
      await writeFile(src, data);
      const container = `validate-${ctx.tag}`;
      await poll('the container created', 60_000, () =>
        ctx.os.run(['container', 'create', container]).then(() => true),
      );
      ctx.made.swiftContainer = container;
      await ctx.os.run(['object', 'create', '--name', 'object.bin', container, src]);
      await ctx.os.run(['object', 'save', '--file', back, container, 'object.bin']);
      const a = sha256(data);
      const b = sha256(await readFile(back));
      if (a !== b) fail(`object read back differs: sha256 ${b} != ${a}`);
      return `256 KiB in ${container}, sha256 ${a.slice(0, 16)}…`;
    },
  },
  {
    name: 'redis',
    title: 'Redis through HAProxy: refused without the password, SET/GET with it',
    service: 'redis',
    containers: ['redis', 'haproxy'],
    types: [],
    when: [['Redis']],
    async run(ctx) {
      const host = publicHost(ctx);
      const password = await ctx.nodes.password('RedisPassword');
      const key = `validate-${ctx.tag}`;
      const value = randomBytes(12).toString('hex');
      // HAProxy counts a just-started backend as down until its checks pass: retry briefly.
      const anon = await poll(
        'redis answering through HAProxy',
        60_000,
        async () => (await redisTalk(host, 6379, ['PING']))[0],
      );
      if (!anon.startsWith('-NOAUTH')) fail(`PING without the password answered ${anon}`);
      const r = await redisTalk(host, 6379, [
        `AUTH ${password}`,
        `SET ${key} ${value}`,
        `GET ${key}`,
        `DEL ${key}`,
      ]);
      if (r[0] !== '+OK') fail(`AUTH answered ${r[0]}`);
      if (r[2] !== value) fail(`GET answered ${r[2]}, expected ${value}`);
      return `${host}:6379, NOAUTH without the password, SET/GET/DEL with it`;
    },
  },
  {
    name: 'cloudformation',
    title: 'Heat CloudFormation API: version document, AWS-style answer to an unsigned call',
    service: 'heat_api_cfn',
    containers: ['heat_api_cfn', 'haproxy'],
    types: ['cloudformation'],
    when: [['HeatApiCfn']],
    async run(ctx) {
      const eps = await ctx.os.json<{ URL: string }[]>([
        'endpoint',
        'list',
        '--service',
        'cloudformation',
        '--interface',
        'public',
      ]);
      const endpoint = eps[0]?.URL ?? fail('no public cloudformation endpoint in the catalogue');
      const root = await poll('the version document', 60_000, async () => {
        const res = await fetch(`${new URL(endpoint).origin}/`);
        const text = await res.text();
        return res.status === 300 || res.status === 200 ? text : fail(`GET / answered HTTP ${res.status}`);
      });
      if (!/"versions"/.test(root)) fail(`GET / answered no version document: ${root.slice(0, 120)}`);
      // A signed call cannot pass on Debian 12 (docs/services.md: keystone's ec2tokens wants a
      // service token that heat's ec2token middleware does not send); an unsigned one proves the
      // API pipeline answers as CloudFormation does.
      const res = await fetch(`${endpoint.replace(/\/$/, '')}/?Action=DescribeStacks&Version=2010-05-15`);
      const body = await res.text();
      if (res.status !== 400 || !/<Code>IncompleteSignature<\/Code>/.test(body))
        fail(`unsigned DescribeStacks answered HTTP ${res.status}: ${body.slice(0, 200)}`);
      return `${endpoint}: versions (HTTP 300), unsigned DescribeStacks -> 400 IncompleteSignature`;
    },
  },
  {
    name: 'router',
    title: 'router with a subnet interface ACTIVE, its namespace on the L3 agent node',
    service: 'neutron_l3',
    containers: ['neutron_l3_agent', 'neutron_linuxbridge_agent', 'neutron_api'],
    types: ['network'],
    when: [['NeutronL3Agent']],
    after: ['network'],
    async run(ctx) {
      if (!ctx.made.subnetId) fail('needs the network check to have passed');
      const router = await ctx.os.json<{ id: string }>(['router', 'create', `validate-${ctx.tag}`]);
      ctx.made.routerId = router.id;
      await ctx.os.run(['router', 'add', 'subnet', router.id, ctx.made.subnetId as string]);
      const l3 = ctx.services.NeutronL3Agent ?? [];
      const host = await poll('router hosted by an L3 agent', 120_000, async () => {
        const agents = await ctx.os.json<{ Host: string; Binary?: string }[]>([
          'network',
          'agent',
          'list',
          '--router',
          router.id,
        ]);
        return agents.find((a) => l3.includes(a.Host))?.Host;
      });
      const ports = await poll('router interface ACTIVE', 120_000, async () => {
        const p = await ctx.os.json<{ ID: string; Status: string; 'Fixed IP Addresses': unknown }[]>([
          'port',
          'list',
          '--router',
          router.id,
          '--device-owner',
          'network:router_interface',
        ]);
        return p.length === 1 && p[0]?.Status === 'ACTIVE' ? p : undefined;
      });
      const shown = await ctx.os.json<{ status: string }>(['router', 'show', router.id]);
      if (shown.status !== 'ACTIVE') fail(`router status ${shown.status}`);
      const ns = `qrouter-${router.id}`;
      // The agent keeps its namespaces in its own container (see docker/services/neutron-l3.yaml).
      const addrs = await poll(`${ns} with the gateway address on ${host}`, 60_000, async () => {
        const out = await ctx.nodes.shell(host, `podman exec neutron_l3_agent ip -n ${ns} -o -4 addr show`);
        return /inet 192\.0\.2\.1\/24/.test(out) ? out : undefined;
      });
      const dev = /\d+: (qr-[0-9a-f-]+)/.exec(addrs)?.[1] ?? '?';
      return `router ${router.id.slice(0, 8)} on ${host}, ${ns} has ${dev} 192.0.2.1/24, port ${ports[0]?.ID.slice(0, 8)} ACTIVE`;
    },
  },
  {
    name: 'metadata',
    title: "Nova metadata API answers from the controller (HAProxy and the service's loopback)",
    service: 'nova_metadata',
    containers: ['nova_metadata', 'haproxy'],
    types: [],
    when: [['NovaMetadata']],
    async run(ctx) {
      const node = (ctx.services.NovaMetadata ?? [])[0] as string;
      const address = await ctx.nodes.address(node);
      const out = await poll('the metadata version list', 60_000, async () => {
        const text = await ctx.nodes.shell(
          node,
          `curl -sS --fail --max-time 10 http://${address}:8775/ && echo --- && curl -sS --fail --max-time 10 http://127.0.0.1:8775/`,
        );
        return /latest/.test(text) ? text : undefined;
      });
      const versions = (out.split('---')[0] ?? '').trim().split('\n');
      return `${node}: ${address}:8775 lists ${versions.length} versions (${versions.at(-1)})`;
    },
  },
  {
    name: 'console',
    title: 'noVNC console URL answers through HAProxy',
    service: 'nova_vnc_proxy',
    containers: ['nova_vnc_proxy', 'nova_compute', 'haproxy'],
    types: ['compute'],
    when: [['NovaVncProxy']],
    after: ['server'],
    async run(ctx) {
      // A console URL needs a server; without one (no compute or image service), the proxy's page.
      const url = ctx.made.serverId
        ? (await ctx.os.json<{ url: string }>(['console', 'url', 'show', '--novnc', ctx.made.serverId])).url
        : `http://${publicHost(ctx)}:6080/vnc_auto.html`;
      if (ctx.made.serverId && !/[?&]path=.*token/.test(decodeURIComponent(url)))
        fail(`console URL has no token: ${url}`);
      const body = await poll('the console page', 60_000, async () => {
        const res = await fetch(url);
        const text = await res.text();
        return res.status === 200 ? text : fail(`GET ${url} answered HTTP ${res.status}`);
      });
      if (!/noVNC/i.test(body)) fail(`${url} is not noVNC's page: ${body.slice(0, 120)}`);
      return ctx.made.serverId
        ? `server ${ctx.made.serverId.slice(0, 8)}: ${url.split('?')[0]} 200`
        : `${url} 200`;
    },
  },
];
