/**
 * @module registry
 * Docker Registry HTTP API V2 / OCI distribution client on undici, streaming only.
 * Start with RegistrySession (one per run) and its per-host RegistryClient; the porcelain
 * (getImageConfig, listTags, probeRegistryTransport) takes reference strings.
 */

export { CATALOG_SCOPE, parseChallenge, pullScope, pushScope } from './auth.js';
export { HoldLast } from './blob-io.js';
export { copyBlobChunked } from './chunked-copy.js';
export { type PushOptions, RegistryClient, type UploadStart } from './client.js';
export { authFilePaths, type CredentialStore, type Credentials, loadCredentials } from './credentials.js';
export { type Diagnostic, isRetryable, RegistryError, type RegistryErrorDetail } from './errors.js';
export { getImageConfig, type ImageConfigFile, type ImageLookupOptions, listTags } from './image.js';
export { blobsOf, descriptorOf, type ParsedManifest, parseManifest, type RawManifest } from './manifest.js';
export * as registryOptions from './options.js';
export {
  hostPlatform,
  matchesPlatform,
  type PlatformFilter,
  parsePlatform,
  selectManifests,
} from './platform.js';
export { insecureFromToml, readInsecureRegistries } from './registries-conf.js';
export { backoffMs, withRetry } from './retry.js';
export { RegistrySession, type SessionOptions } from './session.js';
export {
  isLoopbackHost,
  type Probe,
  probeRegistryTransport,
  type Scheme,
  Transport,
  type TransportOptions,
} from './transport.js';
