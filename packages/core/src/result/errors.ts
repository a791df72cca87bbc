import { err, ok, type Result } from './result.js';

/**
 * Machine-readable error codes. Adapters keep "the API refused" (`api_refused`,
 * `not_found`, `conflict`, `rate_limited`) apart from "the network failed"
 * (`network`, `timeout`).
 */
export type ConveyorErrorCode =
  | 'invalid_input'
  | 'invalid_config'
  | 'not_found'
  | 'conflict'
  | 'already_exists'
  | 'api_refused'
  | 'unauthorized'
  | 'too_large'
  | 'rate_limited'
  | 'network'
  | 'timeout'
  | 'lease_busy'
  | 'lease_lost'
  | 'head_out_of_date'
  | 'not_mergeable'
  | 'corrupt'
  | 'version_mismatch'
  | 'unsupported'
  | 'process_failed'
  | 'git_failed'
  | 'internal';

/** Options of {@link ConveyorError}. */
export interface ConveyorErrorOptions {
  /** The underlying error, kept for diagnosis. */
  readonly cause?: unknown;
  /** Structured context (status code, key, path…). Never put secrets here. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error type that crosses package boundaries: a `code`, a message, the
 * package that raised it, and the `cause`.
 *
 * @example
 * ```ts
 * return err(new ConveyorError('@conveyor/adapter-plane', 'api_refused', 'Plane answered 403: forbidden', { details: { status: 403 } }));
 * ```
 */
export class ConveyorError extends Error {
  override readonly name = 'ConveyorError';
  /** Structured context. */
  readonly details: Readonly<Record<string, unknown>>;

  /**
   * @param pkg - the package that raised the error, e.g. `@conveyor/core`
   * @param code - what kind of failure this is
   * @param message - a sentence a person can act on
   * @param options - cause and details
   */
  constructor(
    readonly pkg: string,
    readonly code: ConveyorErrorCode,
    message: string,
    options: ConveyorErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }

  /** `true` when a retry may succeed (network, timeout, rate limit, busy lease). */
  get retryable(): boolean {
    return (
      this.code === 'network' || this.code === 'timeout' || this.code === 'rate_limited' || this.code === 'lease_busy'
    );
  }

  /** A JSON-safe view for logs. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      pkg: this.pkg,
      code: this.code,
      message: this.message,
      details: this.details,
      cause: this.cause instanceof Error ? this.cause.message : this.cause,
    };
  }
}

/**
 * Builds a {@link ConveyorError}; a short form for adapters.
 *
 * @example
 * ```ts
 * const e = conveyorError('@conveyor/core', 'not_found', 'task t1 does not exist');
 * ```
 */
export function conveyorError(
  pkg: string,
  code: ConveyorErrorCode,
  message: string,
  options: ConveyorErrorOptions = {},
): ConveyorError {
  return new ConveyorError(pkg, code, message, options);
}

/** Turns anything thrown into a {@link ConveyorError} (kept as is when it already is one). */
export function toConveyorError(
  pkg: string,
  thrown: unknown,
  code: ConveyorErrorCode = 'internal',
  message?: string,
): ConveyorError {
  if (thrown instanceof ConveyorError) return thrown;
  const text = thrown instanceof Error ? thrown.message : String(thrown);
  return new ConveyorError(pkg, code, message ? `${message}: ${text}` : text, { cause: thrown });
}

/**
 * Runs a function that may throw and returns its outcome as a {@link Result}.
 *
 * @example
 * ```ts
 * const parsed = tryCatch(() => JSON.parse(text), (e) => toConveyorError('@conveyor/core', e, 'invalid_input'));
 * ```
 */
export function tryCatch<T, E>(fn: () => T, onThrow: (thrown: unknown) => E): Result<T, E> {
  try {
    return ok(fn());
  } catch (thrown) {
    return err(onThrow(thrown));
  }
}

/**
 * Awaits a function that may throw or reject and returns its outcome as a {@link Result}.
 *
 * @example
 * ```ts
 * const res = await tryAsync(() => fetch(url), (e) => toConveyorError('@conveyor/adapter-plane', e, 'network'));
 * ```
 */
export async function tryAsync<T, E>(fn: () => Promise<T> | T, onThrow: (thrown: unknown) => E): Promise<Result<T, E>> {
  try {
    return ok(await fn());
  } catch (thrown) {
    return err(onThrow(thrown));
  }
}

/**
 * Settles a promise into a {@link Result}.
 *
 * @example
 * ```ts
 * const res = await fromPromise(fs.promises.readFile(p, 'utf8'), (e) => toConveyorError('@conveyor/core', e));
 * ```
 */
export function fromPromise<T, E>(promise: Promise<T>, onReject: (thrown: unknown) => E): Promise<Result<T, E>> {
  return promise.then(
    (value) => ok(value),
    (thrown: unknown) => err(onReject(thrown)),
  );
}

/** A short text of any thrown value or error, for log fields. */
export function describeError(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message : String(thrown);
}
