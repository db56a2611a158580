/**
 * @module deploy/files
 * The config files a node needs before step 1 (docker-puppet's job in TripleO): host directories,
 * each config volume under /var/lib/config-data/puppet-generated/<volume>/ with its hash beside it in
 * <volume>.md5sum (TripleO's name; the content is our sha256 prefix), and the kolla config.json files.
 * Built as one POSIX sh script per node (one round trip over SSH). A volume whose stored hash matches
 * is left alone, so running containers keep exactly the files they were started with; a changed one is
 * built beside the old and swapped in. Pure: the script is run by deploy/apply.
 */

import { shellQuote } from '../process/index.js';
import { CONFIG_DATA_DIR, type NodePlan } from './plan.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const q = (s: string): string => shellQuote([s]);

function writeFile(path: string, content: string, mode: string): string[] {
  return [
    `mkdir -p ${q(path.slice(0, path.lastIndexOf('/')) || '/')}`,
    `printf '%s' '${b64(content)}' | base64 -d > ${q(path)}`,
    `chmod ${mode} ${q(path)}`,
  ];
}

/** syncScript writes the node's config; it prints `changed <what>` for each thing it rewrote. */
export function syncScript(plan: NodePlan): string {
  const lines = ['set -eu', `mkdir -p ${q(CONFIG_DATA_DIR)}`];
  for (const d of plan.hostDirectories) lines.push(`mkdir -p ${q(d)}`);
  for (const v of plan.volumes) {
    const dir = `${CONFIG_DATA_DIR}/${v.name}`;
    const marker = `${dir}.md5sum`;
    lines.push(`if [ "$(cat ${q(marker)} 2>/dev/null || true)" != ${q(v.hash)} ]; then`);
    lines.push(`  rm -rf ${q(`${dir}.new`)} && mkdir -p ${q(`${dir}.new`)}`);
    for (const f of v.files)
      for (const l of writeFile(`${dir}.new${f.path}`, f.content, f.mode)) lines.push(`  ${l}`);
    lines.push(`  rm -rf ${q(dir)} && mv ${q(`${dir}.new`)} ${q(dir)}`);
    lines.push(`  echo ${q(v.hash)} > ${q(marker)}`);
    lines.push(`  echo ${q(`changed config volume ${v.name}`)}`);
    lines.push('fi');
  }
  for (const k of plan.kolla) {
    const tmp = `${k.path}.new`;
    lines.push(...writeFile(tmp, k.content, '0644'));
    lines.push(
      `if cmp -s ${q(tmp)} ${q(k.path)}; then rm -f ${q(tmp)}; else mv ${q(tmp)} ${q(k.path)}; echo ${q(`changed kolla config ${k.path}`)}; fi`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * driftScript checks, without writing, what syncScript would rewrite: it prints `differs <what>` for
 * a missing host directory, a config volume whose stored hash differs, and a kolla file whose content
 * differs. The Ansible driver skips its config phase on nodes where it prints nothing.
 */
export function driftScript(plan: NodePlan): string {
  const lines = ['set -u'];
  for (const d of plan.hostDirectories) lines.push(`[ -d ${q(d)} ] || echo ${q(`differs directory ${d}`)}`);
  for (const v of plan.volumes) {
    const marker = `${CONFIG_DATA_DIR}/${v.name}.md5sum`;
    lines.push(
      `[ "$(cat ${q(marker)} 2>/dev/null || true)" = ${q(v.hash)} ] || echo ${q(`differs config volume ${v.name}`)}`,
    );
  }
  for (const k of plan.kolla)
    lines.push(
      `printf '%s' '${b64(k.content)}' | base64 -d | cmp -s - ${q(k.path)} || echo ${q(`differs kolla config ${k.path}`)}`,
    );
  return `${lines.join('\n')}\n`;
}
