/**
 * `@conveyor/store-sqlite` (not built yet).
 *
 * @packageDocumentation
 */
export {};
