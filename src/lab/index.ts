/**
 * @module lab
 * The quickstart's lab as the other stages see it: its config, topology, bring-up and teardown,
 * the registries it runs, and running a command in one of its namespaces.
 */
export { loadConfig, type NodeGroup, type QuickstartConfig } from './config.js';
export { type CmdOptions, type CmdResult, cmd, inNet } from './exec.js';
export {
  ensureRegistries,
  type LabPaths,
  labDown,
  labPaths,
  labUp,
  recordBuiltNames,
} from './lab.js';
export { type PlannedNode, planTopology, type Topology } from './topology.js';
