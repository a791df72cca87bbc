/**
 * A value that is either a success (`ok`) holding `value`, or a failure (`err`)
 * holding `error`. Port methods resolve to a `Result` instead of throwing, so a
 * caller always sees failure in the type.
 *
 * The project's error style is the plain union with early returns:
 * `if (!r.ok) return err(r.error);` then use `r.value`. TypeScript narrows on
 * `ok`, the happy path reads top to bottom, and a stack trace stays flat (no
 * closures per step). Results are never thrown again inside a package and
 * never nested (`Result<Result<…>>`). The few combinators (`map`, `andThen`,
 * `match`, `unwrapOr`) stay for one-liners at the edges: a parse mapped to a
 * type, a test reading a value, a host's start-up.
 *
 * @example
 * ```ts
 * const parsed: Result<number, string> = Number.isNaN(n) ? err('not a number') : ok(n);
 * if (!parsed.ok) return err(parsed.error);
 * const doubled = parsed.value * 2;
 * ```
 */
export type Result<T, E> = Ok<T, E> | Err<T, E>;

/** The success side of a {@link Result}. */
export class Ok<T, E> {
  /** Discriminant: `true` for {@link Ok}. */
  readonly ok = true as const;
  /** @param value - the success value */
  constructor(readonly value: T) {}

  /** `true`: this is a success. */
  isOk(): this is Ok<T, E> {
    return true;
  }

  /** `false`: this is not a failure. */
  isErr(): this is Err<T, E> {
    return false;
  }

  /** Transforms the success value. */
  map<U>(fn: (value: T) => U): Result<U, E> {
    return new Ok<U, E>(fn(this.value));
  }

  /** Chains a computation that may itself fail. */
  andThen<U, F>(fn: (value: T) => Result<U, F>): Result<U, E | F> {
    return fn(this.value);
  }

  /** Calls `handlers.ok` with the value. */
  match<R>(handlers: { ok: (value: T) => R; err: (error: E) => R }): R {
    return handlers.ok(this.value);
  }

  /** Returns the value. */
  unwrapOr<U>(_fallback: U): T | U {
    return this.value;
  }
}

/** The failure side of a {@link Result}. */
export class Err<T, E> {
  /** Discriminant: `false` for {@link Err}. */
  readonly ok = false as const;
  /** @param error - the failure */
  constructor(readonly error: E) {}

  /** `false`: this is not a success. */
  isOk(): this is Ok<T, E> {
    return false;
  }

  /** `true`: this is a failure. */
  isErr(): this is Err<T, E> {
    return true;
  }

  /** Leaves a failure untouched. */
  map<U>(_fn: (value: T) => U): Result<U, E> {
    return new Err<U, E>(this.error);
  }

  /** Short-circuits: the chained computation is not run. */
  andThen<U, F>(_fn: (value: T) => Result<U, F>): Result<U, E | F> {
    return new Err<U, E | F>(this.error);
  }

  /** Calls `handlers.err` with the error. */
  match<R>(handlers: { ok: (value: T) => R; err: (error: E) => R }): R {
    return handlers.err(this.error);
  }

  /** Returns `fallback`. */
  unwrapOr<U>(fallback: U): T | U {
    return fallback;
  }
}

/**
 * Wraps a success value.
 *
 * @example
 * ```ts
 * const r = ok(42); // Result<number, never>
 * ```
 */
export function ok<E = never>(): Result<void, E>;
export function ok<T, E = never>(value: T): Result<T, E>;
export function ok<T, E = never>(value?: T): Result<T | undefined, E> {
  return new Ok<T | undefined, E>(value);
}

/**
 * Wraps a failure.
 *
 * @example
 * ```ts
 * const r = err(new Error('boom')); // Result<never, Error>
 * ```
 */
export function err<T = never, E = unknown>(error: E): Result<T, E> {
  return new Err<T, E>(error);
}

/** A promise of a {@link Result}: what every port method returns. */
export type AsyncResult<T, E> = Promise<Result<T, E>>;
