/**
 * `@conveyor/core`: the ports, the pure stage machine, the gate registry,
 * verdict folding, report artifacts, settings, daemons and the pipeline runtime.
 *
 * @packageDocumentation
 */
export * from './daemons/index.js';
export * from './events/index.js';
export * from './gates/index.js';
export * from './http/index.js';
export * from './launcher/index.js';
export * from './leases/index.js';
export * from './pipeline/index.js';
export * from './ports/index.js';
export * from './reports/index.js';
export * from './result/index.js';
export * from './runtime/index.js';
export * from './settings/index.js';
export * from './stages/index.js';
export * from './store/index.js';
