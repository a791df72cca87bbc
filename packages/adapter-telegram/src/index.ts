/**
 * `@conveyor/adapter-telegram` (not built yet).
 *
 * @packageDocumentation
 */
export {};
