/**
 * @module deploy/node-plan-doc
 * One node's part of a deploy plan as a JSON document: what the config-download folder holds per node
 * and what `overcloud paunch` reads on the node (TripleO's docker_config per step plus the rendered
 * config volumes and kolla files). Containers per step keep paunch's `step_N` keys. The `config_data`
 * label is not stored: it is recomputed from the spec, so the document cannot disagree with itself.
 * Pure: serialise and parse (validated, errors name the source and the field).
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { type NodePlan, type PlannedContainer, STEPS } from './plan.js';
import { ContainerSpecSchema, canonicalJson, normaliseSpec } from './spec.js';

export const NODE_PLAN_FORMAT = 'overcloud-node-plan/1';

const FileSchema = z.strictObject({ path: z.string().min(1), content: z.string(), mode: z.string() });
const ContainerSchema = z.strictObject({
  name: z.string().min(1),
  service: z.string(),
  config_id: z.string(),
  bootstrap: z.boolean(),
  spec: ContainerSpecSchema,
});
const StepsSchema = z.strictObject(
  Object.fromEntries(STEPS.map((s) => [`step_${s}`, z.array(ContainerSchema)])) as Record<
    `step_${number}`,
    z.ZodArray<typeof ContainerSchema>
  >,
);
const DocSchema = z.strictObject({
  format: z.literal(NODE_PLAN_FORMAT),
  node: z.strictObject({ name: z.string().min(1), role: z.string().min(1), address: z.string().min(1) }),
  managed_by: z.string().min(1),
  services: z.array(z.string()),
  host_directories: z.array(z.string()),
  images: z.array(z.string()),
  config_volumes: z.array(z.strictObject({ name: z.string(), hash: z.string(), files: z.array(FileSchema) })),
  kolla_config: z.array(z.strictObject({ path: z.string(), content: z.string(), hash: z.string() })),
  containers: StepsSchema,
});

export type NodePlanDoc = z.infer<typeof DocSchema>;

/** nodePlanDoc is the document for one node. Pure. */
export function nodePlanDoc(plan: NodePlan): NodePlanDoc {
  const containers = Object.fromEntries(
    STEPS.map((s) => [
      `step_${s}`,
      (plan.steps.get(s) ?? []).map((c) => ({
        name: c.name,
        service: c.service,
        config_id: c.configId,
        bootstrap: c.bootstrap,
        spec: c.spec,
      })),
    ]),
  ) as NodePlanDoc['containers'];
  return {
    format: NODE_PLAN_FORMAT,
    node: { name: plan.node.name, role: plan.node.role, address: plan.node.address },
    managed_by: plan.managedBy,
    services: plan.services,
    host_directories: plan.hostDirectories,
    images: plan.images,
    config_volumes: plan.volumes,
    kolla_config: plan.kolla,
    containers,
  };
}

/** parseNodePlanDoc reads a document back into the NodePlan the apply code works on. */
export function parseNodePlanDoc(text: string, source: string): NodePlan {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new AppError('TEMPLATE_INVALID', `${source}: not a JSON node plan: ${String(e)}`);
  }
  const r = DocSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = (issue?.path ?? []).map(String).join('.');
    throw new AppError(
      'TEMPLATE_INVALID',
      `${source}: node plan field ${field || '(root)'}: ${issue?.message}`,
      {
        hint: `the file is written by overcloud deploy --config-download (format ${NODE_PLAN_FORMAT})`,
      },
    );
  }
  const d = r.data;
  const steps = new Map<number, PlannedContainer[]>();
  for (const s of STEPS) {
    steps.set(
      s,
      (d.containers[`step_${s}`] ?? []).map((c) => {
        const spec = normaliseSpec(c.spec);
        return {
          name: c.name,
          service: c.service,
          step: s,
          configId: c.config_id,
          spec,
          bootstrap: c.bootstrap,
          configData: canonicalJson(spec),
        };
      }),
    );
  }
  return {
    // On the node itself every podman call is local.
    node: { ...d.node, user: 'root', connection: 'local' },
    managedBy: d.managed_by,
    services: d.services,
    hostDirectories: d.host_directories,
    volumes: d.config_volumes,
    kolla: d.kolla_config,
    steps,
    images: d.images,
    // Decided before the plan was written: the node runs what the plan lists.
    leftOut: {},
  };
}
