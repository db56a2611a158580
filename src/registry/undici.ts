/**
 * @module registry/undici
 * The one import of the undici package. On load, undici v7 installs its own Agent as the
 * process-wide dispatcher when none is set yet; Node 20's built-in fetch (undici v6) would then
 * run through it and fail on requests with an explicit content-length ("invalid content-length
 * header"), breaking any code in the process that uses fetch. The preload, evaluated first
 * (ES modules evaluate imports in order), lets Node's fetch claim the slot. This client never uses
 * the global dispatcher: it passes its own to every request.
 */
import './undici-preload.js';
import { Agent, type Dispatcher, request } from 'undici';

export { Agent, type Dispatcher, request };
