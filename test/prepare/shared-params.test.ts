/**
 * The Heat parameters that several catalogue entries name. tripleo-common renders the template in
 * its order and sets each parameter of every kept entry, so the last kept entry wins; the
 * catalogue's order therefore decides these values, and the golden file pins every one of them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { type Catalogue, loadCatalogue, renderImagename, shortName } from '../../src/prepare/catalogue.js';
import { planPrepare, templateVars } from '../../src/prepare/prepare.js';
import { assertGolden } from '../support/golden.js';

/** Template variables that render an entry as its bare image name (`neutron-server`). */
const PLAIN = templateVars({ namespace: 'ns', name_prefix: '' });

/** sharedParams maps each parameter named by more than one entry to those entries, in order. */
function sharedParams(catalogue: Catalogue): Map<string, string[]> {
  const namedBy = new Map<string, string[]>();
  for (const [i, entry] of catalogue.entries.entries()) {
    const name = shortName(renderImagename(entry.imagename, PLAIN, i));
    for (const p of entry.params) namedBy.set(p, [...(namedBy.get(p) ?? []), name]);
  }
  return new Map(
    [...namedBy].filter(([, entries]) => entries.length > 1).sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** winners is what prepare sets each parameter to (as a short image name) in one scenario. */
function winners(catalogue: Catalogue, neutronDriver: string, everyService: boolean): Record<string, string> {
  const services = new Set(catalogue.entries.flatMap((e) => e.services));
  const plan = planPrepare({
    catalogue,
    vars: { ...PLAIN, neutron_driver: neutronDriver },
    filter: everyService ? { services, verdicts: new Map() } : undefined,
    includes: [],
    excludes: [],
  });
  return Object.fromEntries(Object.entries(plan.params).map(([p, ref]) => [p, shortName(ref)]));
}

test('every parameter several entries name: the entries in order and who wins (golden)', async () => {
  const catalogue = await loadCatalogue();
  const shared = sharedParams(catalogue);
  assert.ok(shared.size > 0, 'the shipped catalogue has parameters that several entries name');
  const scenarios: Array<[string, Record<string, string>]> = [
    ['no filter', winners(catalogue, '', false)],
    ['no filter, neutron_driver=odl', winners(catalogue, 'odl', false)],
    ['no filter, neutron_driver=ovn', winners(catalogue, 'ovn', false)],
    ['every service enabled', winners(catalogue, '', true)],
    ['every service enabled, neutron_driver=odl', winners(catalogue, 'odl', true)],
  ];
  const table: Record<string, Record<string, unknown>> = {};
  for (const [param, entries] of shared) {
    const row: Record<string, unknown> = { named_by: entries };
    for (const [name, values] of scenarios) row[name] = values[param] ?? null;
    table[param] = row;
  }
  const header =
    '# Heat parameters that more than one catalogue entry names: the entries, in catalogue order,\n' +
    '# and the image prepare sets the parameter to in each scenario (the last kept entry wins).\n';
  assertGolden('prepare-shared-params.yaml', header + stringify(table));
});

test('no filter: DockerNeutronConfigImage is neutron-server, as TripleO gives it', async () => {
  const catalogue = await loadCatalogue();
  const plain = winners(catalogue, '', false);
  assert.equal(plain.DockerNeutronConfigImage, 'neutron-server');
  assert.equal(plain.DockerNeutronApiImage, 'neutron-server');
  assert.equal(plain.DockerIronicNeutronAgentImage, 'ironic-neutron-agent');
  const odl = winners(catalogue, 'odl', false);
  assert.equal(odl.DockerNeutronConfigImage, 'neutron-server-opendaylight', 'the ODL server is later');
});

test('the last kept entry wins: reversing the catalogue flips every shared parameter', async () => {
  const catalogue = await loadCatalogue();
  const reversed: Catalogue = { ...catalogue, entries: [...catalogue.entries].reverse() };
  const forward = winners(catalogue, '', false);
  const backward = winners(reversed, '', false);
  const ironic = 'ironic-neutron-agent';
  assert.equal(backward.DockerNeutronConfigImage, ironic, 'the first entry wins when it comes last');
  assert.notEqual(forward.DockerNeutronConfigImage, backward.DockerNeutronConfigImage);
});
