/**
 * @module heat/services
 * The service filter of `container image prepare`: which OS::TripleO::Services the deployment
 * really runs in containers. The rule is TripleO's from Rocky-stable/Stein ("services are
 * containerized by default"): a service counts when a deployed role enables it, unless the merged
 * resource registry maps it to OS::Heat::None or to a non-container (puppet/host) template.
 */
import { type Environment, HEAT_NONE } from './environment.js';
import { enabledServices, type Role } from './roles.js';

export type ServiceVerdict =
  | { enabled: true; roles: string[]; mapping?: string }
  | { enabled: false; reason: string };

export interface ServiceFilter {
  /** Services that are enabled and containerized. */
  services: Set<string>;
  /** Why each service the roles or registry mention is in or out (for --explain). */
  verdicts: Map<string, ServiceVerdict>;
}

/** isHostTemplate tells whether a registry mapping is a bare-metal (non-container) template. */
export function isHostTemplate(mapping: string): boolean {
  return mapping.includes('/puppet/services/') || mapping.includes('/extraconfig/');
}

/** buildServiceFilter computes the containerized, enabled service set. Pure. */
export function buildServiceFilter(roles: Role[], env: Environment): ServiceFilter {
  const enabled = enabledServices(roles, env.parameterDefaults);
  const services = new Set<string>();
  const verdicts = new Map<string, ServiceVerdict>();
  for (const [service, byRoles] of enabled) {
    const mapping = env.resourceRegistry[service];
    if (mapping === HEAT_NONE) {
      const note = env.registryNotes[service];
      verdicts.set(service, { enabled: false, reason: `mapped to ${HEAT_NONE}${note ? ` (${note})` : ''}` });
    } else if (mapping !== undefined && isHostTemplate(mapping)) {
      verdicts.set(service, { enabled: false, reason: `mapped to a non-container template (${mapping})` });
    } else {
      services.add(service);
      verdicts.set(
        service,
        mapping === undefined
          ? { enabled: true, roles: byRoles }
          : { enabled: true, roles: byRoles, mapping },
      );
    }
  }
  for (const service of Object.keys(env.resourceRegistry)) {
    if (service.startsWith('OS::TripleO::Services::') && !verdicts.has(service)) {
      verdicts.set(service, { enabled: false, reason: 'no deployed role (Count > 0) lists it' });
    }
  }
  return { services, verdicts };
}
