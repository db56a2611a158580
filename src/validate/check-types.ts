/**
 * @module validate/check-types
 * What a check is and what it gets: shared by the core checks (checks.ts) and the per-service
 * checks (service-checks.ts), which checks.ts lists.
 */
import type { NodeAccess } from './nodes.js';
import type { OpenStackClient } from './openstack.js';
import type { ServiceMap } from './overcloudrc.js';

export interface CheckContext {
  os: OpenStackClient;
  rc: Record<string, string>;
  services: ServiceMap;
  /** catalogue types that must be listed */
  expectTypes: string[];
  scratch: string;
  /** unique suffix for everything a run creates */
  tag: string;
  /** the deployed nodes and the stack's passwords, for checks that look beyond the APIs */
  nodes: NodeAccess;
  /** what earlier checks created, for later checks and cleanup */
  made: {
    imageId?: string;
    networkId?: string;
    subnetId?: string;
    flavorId?: string;
    serverId?: string;
    routerId?: string;
    swiftContainer?: string;
  };
}

export interface Check {
  name: string;
  title: string;
  /** the service a failure is blamed on, and the containers whose logs are shown */
  service: string;
  containers: string[];
  /** catalogue types this check needs */
  types: string[];
  /** services (services.json names) whose presence selects the check automatically */
  when: string[][];
  /** checks whose resources this one uses (ctx.made): it starts after they finish */
  after?: string[];
  run(ctx: CheckContext): Promise<string>;
}
