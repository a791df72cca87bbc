/**
 * `@conveyor/gates`: the security gate (secrets and dependency audit), the
 * merge gate, the staging verdict and the image-freshness gate, with the git
 * helpers they share.
 *
 * @packageDocumentation
 */
export * from './freshness/index.js';
export * from './git/index.js';
export * from './merge/index.js';
export * from './security/index.js';
export * from './staging/index.js';
