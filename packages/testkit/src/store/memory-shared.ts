import { type ConveyorError, createStoreErrors, type Result, type Store } from '@conveyor/core';

/** The package name the memory store's errors carry. */
export const PKG = '@conveyor/testkit';

/** The errors every store reports, with this package's name. */
export const errors = createStoreErrors(PKG);

/** The name of a memory store method, as passed to `MemoryStoreOptions.fault`. */
export type MemoryStoreMethod = keyof Store;

/**
 * Runs one method's body: refused after `close()`, or with an injected fault,
 * and never throwing (a throw becomes an `internal` error).
 */
export type Guard = <T>(
  method: MemoryStoreMethod,
  body: () => Result<T, ConveyorError>,
) => Promise<Result<T, ConveyorError>>;

/** Removes `readonly`, for the store's own copies of its rows. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Every value the memory store hands out or keeps is a copy. */
export function copy<T>(value: T): T {
  return structuredClone(value);
}

/** Compares by id (ids sort in creation order). */
export function byId<T extends { id: string }>(a: T, b: T): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
