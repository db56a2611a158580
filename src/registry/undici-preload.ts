/**
 * @module registry/undici-preload
 * Runs before the undici package loads (see ./undici.ts): a `data:` fetch makes Node's built-in
 * fetch install its own global dispatcher now, without touching the network, so undici v7 finds
 * the slot taken and does not put its Agent under Node 20's fetch.
 */
if (typeof globalThis.fetch === 'function') {
  globalThis
    .fetch('data:,')
    .then((r) => r.arrayBuffer())
    .catch(() => {});
}
