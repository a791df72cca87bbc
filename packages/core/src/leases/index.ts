export { mergeLeaseHolder } from './merge-lease.js';
