/**
 * @module deploy/report-doc
 * A deploy's plan and outcome as one printable JSON document (`overcloud deploy [--dry-run] --json`):
 * per node and step the actions paunch's diff decided (create, replace and why, remove, exec), the
 * counts, and the files and images it touched. Pure. It names containers and images but holds no
 * file contents, so no password from the rendered configs reaches stdout.
 */
import type { ApplyReport } from './apply.js';
import type { StepAction } from './diff.js';
import type { DeployPlan } from './plan.js';

export const DEPLOY_REPORT_FORMAT = 'overcloud-deploy-report/1';

export interface ActionDoc {
  kind: StepAction['kind'];
  container: string;
  image?: string;
  /** Why: the changed fields of a replace, or the reason of a remove or exec. */
  reasons?: string[];
}

export interface DeployReportDoc {
  format: typeof DEPLOY_REPORT_FORMAT;
  stack: string;
  dry_run: boolean;
  driver: 'ssh' | 'ansible';
  /** False when the deploy changed (or a dry run would change) nothing. */
  changed: boolean;
  counts: ApplyReport['counts'];
  nodes: {
    name: string;
    role: string;
    address: string;
    services: string[];
    images: string[];
    steps: { step: number; actions: ActionDoc[] }[];
  }[];
  changed_files: string[];
  pulled: string[];
  /** Services not containerized: left to the host. */
  host_services: string[];
  seconds: number;
}

/** changeCount is what the summary line counts as changes. */
export function changeCount(report: ApplyReport): number {
  const c = report.counts;
  return c.create + c.replace + c.remove + c.exec + report.changedFiles.length + report.pulled.length;
}

function actionDoc(a: StepAction): ActionDoc {
  switch (a.kind) {
    case 'create':
    case 'skip-exec':
      return { kind: a.kind, container: a.container.name, ...image(a.container.spec.image) };
    case 'unchanged':
      return { kind: a.kind, container: a.container.name, ...image(a.container.spec.image) };
    case 'replace':
      return {
        kind: a.kind,
        container: a.container.name,
        ...image(a.container.spec.image),
        reasons: a.reasons,
      };
    case 'exec':
      return {
        kind: a.kind,
        container: a.container.name,
        ...image(a.container.spec.image),
        reasons: [a.reason],
      };
    case 'remove':
      return { kind: a.kind, container: a.observed.name, image: a.observed.image, reasons: [a.reason] };
  }
}

const image = (i: string | undefined): { image?: string } => (i === undefined ? {} : { image: i });

/** deployReportDoc renders a deploy's plan and report as the --json document. */
export function deployReportDoc(
  plan: DeployPlan,
  report: ApplyReport,
  meta: { stack: string; dryRun: boolean; driver: 'ssh' | 'ansible'; durationMs: number },
): DeployReportDoc {
  return {
    format: DEPLOY_REPORT_FORMAT,
    stack: meta.stack,
    dry_run: meta.dryRun,
    driver: meta.driver,
    changed: changeCount(report) > 0,
    counts: report.counts,
    nodes: plan.nodes.map((n) => ({
      name: n.node.name,
      role: n.node.role,
      address: n.node.address,
      services: n.services,
      images: n.images,
      steps: (report.diffs.get(n.node.name) ?? []).map((d) => ({
        step: d.step,
        actions: d.actions.map(actionDoc),
      })),
    })),
    changed_files: report.changedFiles,
    pulled: report.pulled,
    host_services: plan.hostServices,
    seconds: Number((meta.durationMs / 1000).toFixed(3)),
  };
}
