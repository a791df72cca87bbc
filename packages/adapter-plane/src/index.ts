/**
 * `@conveyor/adapter-plane` (not built yet).
 *
 * @packageDocumentation
 */
export {};
