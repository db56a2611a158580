/**
 * @module test/support/minimal-images
 * The image parameters (`Docker<Name>Image`) of the containers_minimal topology, for tests that
 * plan it without a registry.
 */
export const MINIMAL_IMAGES: readonly string[] = [
  'Mysql',
  'Memcached',
  'HAProxy',
  'Keystone',
  'GlanceApi',
  'Rabbitmq',
  'NovaPlacement',
  'NovaApi',
  'NovaConductor',
  'NovaScheduler',
  'NovaCompute',
  'NeutronApi',
  'NeutronDHCP',
  'HeatApi',
  'HeatEngine',
  'Horizon',
];
