/**
 * @module deploy/config-download
 * The config-download folder (TripleO Queens' `openstack overcloud config download`): an Ansible
 * inventory made from ours (one group per role under `overcloud`), `ansible.cfg`, one playbook that
 * runs the phases and steps in lockstep across the nodes, and per node its plan as data
 * (`<node>/node-plan.json`: containers per step, config volumes, kolla files). Each task runs
 * `overcloud paunch ...` on the node (src/deploy/paunch); its last output line is a JSON result that
 * `changed_when` reads, so a no-op run reports changed=0. Pure: returns the files; deploy/ansible
 * writes them.
 */
import { stringify } from 'yaml';
import type { Inventory, InventoryNode } from './inventory.js';
import { nodePlanDoc } from './node-plan-doc.js';
import { type DeployPlan, STEPS } from './plan.js';

export interface ConfigDownloadOptions {
  stack: string;
  /** argv that starts `overcloud` on a node, e.g. ['overcloud'] or [node, /path/run.js]. */
  nodeCommand: string[];
  /** Folder on each node for its plan and the running deploy's state. */
  nodeDir: string;
  healthTimeoutS: number;
  pull: 'missing' | 'always';
  insecureRegistries: string[];
  /** Nodes worked on at once (Ansible forks). */
  forks: number;
}

export interface OutputFile {
  /** Relative to the config-download folder. */
  path: string;
  content: string;
  mode: number;
}

export const PLAYBOOK = 'deploy_steps_playbook.yaml';
export const INVENTORY = 'inventory.yaml';
export const ANSIBLE_CFG = 'ansible.cfg';

/** sshCommonArgs renders our inventory's ssh options for Ansible's ssh connection. */
export function sshCommonArgs(inv: Inventory): string {
  return Object.entries(inv.ssh.options)
    .map(([k, v]) => `-o ${k}=${/\s/.test(v) ? `"${v}"` : v}`)
    .join(' ');
}

function hostVars(n: InventoryNode): Record<string, unknown> {
  if (n.connection === 'local') return { ansible_connection: 'local' };
  return {
    ansible_host: n.address,
    ansible_user: n.user,
    ...(n.port === undefined ? {} : { ansible_port: n.port }),
  };
}

/** ansibleInventory is tripleo-ansible-inventory's shape: `overcloud` > role groups > hosts. */
export function ansibleInventory(inv: Inventory, opts: ConfigDownloadOptions): Record<string, unknown> {
  const roles = [...new Set(inv.nodes.map((n) => n.role))].sort();
  const common = sshCommonArgs(inv);
  return {
    all: {
      vars: {
        ansible_python_interpreter: '/usr/bin/python3',
        ...(inv.ssh.identityFile === undefined ? {} : { ansible_ssh_private_key_file: inv.ssh.identityFile }),
        ...(common === '' ? {} : { ansible_ssh_common_args: common }),
        overcloud_stack: opts.stack,
        overcloud_command: opts.nodeCommand,
        overcloud_node_dir: opts.nodeDir,
        overcloud_health_timeout: opts.healthTimeoutS,
        overcloud_pull: opts.pull,
        overcloud_insecure_registries: opts.insecureRegistries,
      },
      children: {
        overcloud: {
          children: Object.fromEntries(
            roles.map((role) => [
              role,
              {
                hosts: Object.fromEntries(
                  inv.nodes
                    .filter((n) => n.role === role)
                    .sort((a, b) => a.name.localeCompare(b.name))
                    .map((n) => [n.name, hostVars(n)]),
                ),
              },
            ]),
          ),
        },
      },
    },
  };
}

/** The last output line of `overcloud paunch` is its JSON result. */
const result = (reg: string): string =>
  `(${reg}.stdout_lines | default([]) | last | default('{}') | from_json)`;

const paunch = (args: string): string => `{{ overcloud_command + ['paunch', ${args}] }}`;

/**
 * deployStepsPlaybook is one play: pull (and predict), config, then steps 1..5; each task is a barrier
 * across the nodes, so every pull succeeds before any config changes, and every node finishes step N
 * before any starts step N+1.
 */
export function deployStepsPlaybook(): unknown[] {
  const dir = "'--node-dir', overcloud_node_dir";
  const steps = STEPS.map((step) => ({
    name: `Step ${step}: converge this node's containers (remove, run, exec, health checks)`,
    'ansible.builtin.command': {
      argv: paunch(
        `'apply', '--step', '${step}', ${dir}, '--health-timeout', overcloud_health_timeout | string`,
      ),
    },
    // Predicted by the pull phase: a step with nothing to do on a node costs no connection.
    when: `${step} in ${result('overcloud_pull')}.steps`,
    register: `overcloud_step_${step}`,
    changed_when: `${result(`overcloud_step_${step}`)}.changed | default(false)`,
  }));
  return [
    {
      name: 'Overcloud deploy steps (overcloud deploy --config-download)',
      hosts: 'overcloud',
      gather_facts: false,
      // Lockstep as in the SSH engine: a failure anywhere ends the run after the task it happened in.
      any_errors_fatal: true,
      tasks: [
        {
          name: 'Store the node plan, pull the images this node lacks, find the work to do',
          'ansible.builtin.command': {
            argv: "{{ overcloud_command + ['paunch', 'pull', '--node-dir', overcloud_node_dir, '--pull', overcloud_pull] + (overcloud_insecure_registries | map('regex_replace', '^', '--insecure-registry=') | list) }}",
            // base64: Ansible would otherwise turn the JSON text into a mapping when templating.
            stdin:
              "{{ lookup('ansible.builtin.file', playbook_dir + '/' + inventory_hostname + '/node-plan.json') | b64encode }}",
          },
          register: 'overcloud_pull',
          changed_when: `${result('overcloud_pull')}.changed | default(false)`,
        },
        {
          name: 'Write the config files (only where they differ from the plan)',
          'ansible.builtin.command': { argv: paunch(`'config', ${dir}`) },
          when: `${result('overcloud_pull')}.config`,
          register: 'overcloud_config',
          changed_when: `${result('overcloud_config')}.changed | default(false)`,
        },
        ...steps,
      ],
    },
  ];
}

/** ansibleCfg: pipelining (one SSH session per task) and, for runs by hand, no ControlMaster (see inside). */
export function ansibleCfg(opts: ConfigDownloadOptions): string {
  return [
    '# Written by overcloud deploy --config-download.',
    '[defaults]',
    `inventory = ${INVENTORY}`,
    `forks = ${opts.forks}`,
    'gathering = explicit',
    'retry_files_enabled = False',
    'interpreter_python = /usr/bin/python3',
    '',
    '[ssh_connection]',
    'pipelining = True',
    // Ansible's default ControlPath (~/.ansible/cp/<host hash>) is keyed by address: two labs in
    // different network namespaces can share addresses, and a persisting master would outlive the run.
    // `overcloud deploy` overrides this with a ControlMaster in a private folder, closed after its run.
    'ssh_args = -o ControlMaster=no',
    '',
  ].join('\n');
}

const HEADER = (what: string): string =>
  `# Written by overcloud deploy --config-download: ${what}.\n# Run by hand: cd to this folder, then ansible-playbook ${PLAYBOOK}\n`;

/** configDownloadFiles is every file of the folder. Pure. */
export function configDownloadFiles(
  plan: DeployPlan,
  inv: Inventory,
  opts: ConfigDownloadOptions,
): OutputFile[] {
  return [
    { path: ANSIBLE_CFG, content: ansibleCfg(opts), mode: 0o600 },
    {
      path: INVENTORY,
      content: `${HEADER('the nodes, one group per role')}${stringify(ansibleInventory(inv, opts))}`,
      mode: 0o600,
    },
    {
      path: PLAYBOOK,
      content: `${HEADER('steps 1..5 in lockstep, each node converged by `overcloud paunch`')}${stringify(deployStepsPlaybook(), { lineWidth: 0 })}`,
      mode: 0o600,
    },
    // The node plans hold the rendered config, passwords included: owner only.
    ...plan.nodes.map((n) => ({
      path: `${n.node.name}/node-plan.json`,
      content: `${JSON.stringify(nodePlanDoc(n), null, 1)}\n`,
      mode: 0o600,
    })),
  ];
}
