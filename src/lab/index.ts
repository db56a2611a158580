/**
 * @module lab
 * The quickstart's lab (and the deploy tests'): network namespaces as hosts on this machine, made
 * safe first, recorded in a state file and removed exactly. See docs/architecture-process-and-lab.md.
 */
export {
  DEFAULT_NODE_DIRS,
  loadConfig,
  type NodeGroup,
  parseConfig,
  parseConfigText,
  type QuickstartConfig,
} from './config.js';
export { labUp, type UpResult } from './lab.js';
export { checkRoutes } from './network.js';
export { sshdKey } from './nodes.js';
export { ensureRegistries } from './registries.js';
export { clientSshArgs, inNodeArgv, inventoryYaml, sshConfig } from './render.js';
export {
  type LabConfig,
  type LabPaths,
  type LabState,
  labPaths,
  loadState,
  nodeEnv,
  type ProcRecord,
  recordBuiltNames,
  UPSTREAM_ROOT,
} from './state.js';
export { type DownResult, labDown } from './teardown.js';
export { layoutTopology, type PlannedNode, planTopology, type Topology } from './topology.js';
