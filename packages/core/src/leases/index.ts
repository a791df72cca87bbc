export { createFileLeaseManager, type FileLeaseOptions, type FileLeaseRecord } from './file-lease.js';
export { mergeLeaseHolder } from './merge-lease.js';
export { createStoreLeaseManager, type StoreLeaseOptions } from './store-lease.js';
export type { LeaseManager } from './types.js';
