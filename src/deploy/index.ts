/**
 * @module deploy
 * The deploy engine as the other stages see it (validate): the plan's type, the stack's record
 * of its last deploy, and what runs on its nodes (connections are the process layer's).
 */

export type { InventoryNode } from './inventory.js';
export { type KnownStack, registerStack, resolveStack, unregisterStack } from './known-stacks.js';
export { type ContainerRow, containerLogs, listContainers } from './ops.js';
export type { DeployPlan } from './plan.js';
export {
  type DeployRecord,
  loadRecord,
  loadRemoved,
  passwordsFile,
  type RemovedNode,
  saveRecord,
  saveRemoved,
  stateDir,
} from './record.js';
export { DEPLOY_REPORT_FORMAT, type DeployReportDoc } from './report-doc.js';
