import type { Store } from '@conveyor/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ConformanceContext, value } from './conformance-kit.js';

/**
 * The `CardRefStore` cases: set, overwrite, read and delete a card ref per task and channel.
 *
 * Run by {@link storeConformance}; call it yourself only inside a
 * `describe` whose `beforeEach` provides `ctx.store()`.
 */
export function cardRefStoreConformance(ctx: ConformanceContext): void {
  describe('CardRefStore', () => {
    let store: Store;
    beforeEach(() => {
      store = ctx.store();
    });

    describe('card refs', () => {
      it('sets, overwrites, reads and deletes a card ref per task and channel', async () => {
        const get = store.getCardRef.bind(store);
        const set = store.setCardRef.bind(store);
        const del = store.deleteCardRef.bind(store);
        expect(value(await get('t1', 'telegram'))).toBeUndefined();
        value(await set('t1', 'telegram', 'chat:1/msg:2'));
        value(await set('t1', 'slack', 'C1/ts'));
        expect(value(await get('t1', 'telegram'))).toBe('chat:1/msg:2');
        value(await set('t1', 'telegram', 'chat:1/msg:3'));
        expect(value(await get('t1', 'telegram'))).toBe('chat:1/msg:3');
        value(await del('t1', 'telegram'));
        expect(value(await get('t1', 'telegram'))).toBeUndefined();
        expect(value(await get('t1', 'slack'))).toBe('C1/ts');
        value(await del('t1', 'nothing'));
      });
    });
  });
}
