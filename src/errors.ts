/**
 * @module errors
 * One error type for the whole tool. Every error carries a stable `code` that scripts can match on,
 * a message a user can act on, and the exit status the CLI should use.
 */

/** Stable error codes. Registry protocol codes keep the OCI distribution spelling. */
export type ErrorCode =
  // input and usage (exit 2)
  | 'USAGE'
  | 'YAML_INVALID'
  | 'ENV_INVALID'
  | 'ROLES_INVALID'
  | 'CATALOGUE_INVALID'
  | 'IMAGES_FILE_INVALID'
  | 'SET_INVALID'
  | 'REGEX_INVALID'
  | 'REFERENCE_INVALID'
  | 'DIGEST_INVALID'
  | 'FILE_NOT_FOUND'
  | 'TOML_INVALID'
  | 'RECIPE_INVALID'
  | 'TEMPLATE_INVALID'
  | 'INVENTORY_INVALID'
  | 'SERVICE_UNMAPPED'
  // registry protocol (spec codes)
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  // (DIGEST_INVALID, also a spec code, is listed with the input codes above: a malformed digest.)
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'MANIFEST_UNSUPPORTED'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'RANGE_INVALID'
  // transfer and runtime
  | 'DIGEST_MISMATCH'
  | 'SIZE_MISMATCH'
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_HTTP'
  | 'TLS_MISMATCH'
  | 'TAG_NOT_FOUND'
  | 'UPLOAD_FAILED'
  | 'BLOB_FAILED'
  | 'LAYOUT_INVALID'
  | 'TIMEOUT'
  // deploy
  | 'PULL_FAILED'
  | 'NODE_COMMAND_FAILED'
  | 'NODE_DELETE_REFUSED'
  | 'DEPLOY_FAILED'
  | 'DEPLOY_NOT_READY'
  // image build
  | 'COMMAND_FAILED'
  | 'IMAGE_BUILD_FAILED'
  | 'MIRROR_UNREACHABLE'
  // validate
  | 'VALIDATE_FAILED'
  // quickstart
  | 'QUICKSTART_CONFIG_INVALID'
  | 'LAB_UNSAFE'
  | 'LAB_FAILED'
  | 'QUICKSTART_STAGE_FAILED'
  | 'QUICKSTART_LOCKED'
  // quickstart on a remote HOST
  | 'HOST_UNREACHABLE'
  | 'HOST_AUTH_REFUSED'
  | 'HOST_KEY_MISMATCH'
  | 'HOST_UNSUPPORTED'
  | 'HOST_BUSY'
  | 'HOST_COMMAND_FAILED'
  | 'INTERNAL';

const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'USAGE',
  'YAML_INVALID',
  'ENV_INVALID',
  'ROLES_INVALID',
  'CATALOGUE_INVALID',
  'IMAGES_FILE_INVALID',
  'SET_INVALID',
  'REGEX_INVALID',
  'REFERENCE_INVALID',
  'DIGEST_INVALID',
  'FILE_NOT_FOUND',
  'TOML_INVALID',
  'RECIPE_INVALID',
  'TEMPLATE_INVALID',
  'INVENTORY_INVALID',
  'SERVICE_UNMAPPED',
  'QUICKSTART_CONFIG_INVALID',
]);

/**
 * "Busy, try again later" (sysexits' EX_TEMPFAIL): another quickstart holds the lab or the remote
 * checkout. Scripts can tell it apart from a failure (1) and from bad input (2).
 */
export const EXIT_BUSY = 75;
const BUSY_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['QUICKSTART_LOCKED', 'HOST_BUSY']);

export interface AppErrorOptions {
  cause?: unknown;
  /** The exit status to use instead of the code's (e.g. a remote command's own status). */
  exitStatus?: number;
  /** A hint printed under the message: what the user can do about it. */
  hint?: string;
  /** Extra structured detail (for `--json` output and logs). */
  detail?: unknown;
}

/** AppError is the base of every error the tool raises on purpose. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly detail: unknown;
  readonly #exitStatus: number | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.hint = options.hint;
    this.detail = options.detail;
    this.#exitStatus = options.exitStatus;
  }

  /** exitStatus maps the code to the CLI's exit status: 2 for bad input, 75 for busy, else 1. */
  get exitStatus(): number {
    if (this.#exitStatus !== undefined) return this.#exitStatus;
    if (BUSY_CODES.has(this.code)) return EXIT_BUSY;
    return USAGE_CODES.has(this.code) ? 2 : 1;
  }
}

/** isAppError narrows an unknown thrown value. */
export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** errorMessage gives a one-line description of any thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
