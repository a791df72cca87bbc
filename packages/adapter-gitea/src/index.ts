/**
 * `@conveyor/adapter-gitea` (not built yet).
 *
 * @packageDocumentation
 */
export {};
