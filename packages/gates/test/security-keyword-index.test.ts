import { describe, expect, it } from 'vitest';
import { createKeywordIndex } from '../src/security/keyword-index.js';

describe('keyword index', () => {
  it('finds exactly the keywords an includes per keyword finds', () => {
    const keywords = ['key', 'keys', 'ey', 'token', 'ghp_', 'api', 'pi', 'a', 'passw', 'password', 'xoxb-', 'é', 'ſk'];
    const index = createKeywordIndex([...keywords, '', 'key']);
    expect(index.keywords).toHaveLength(keywords.length);
    let seed = 3;
    const alphabet = 'keystonaphigwrdxb_-é ſ\n';
    for (let n = 0; n < 500; n += 1) {
      let text = '';
      for (let i = 0; i < n % 60; i += 1) {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        text += alphabet[seed % alphabet.length];
      }
      const expected = new Set(keywords.filter((k) => text.includes(k)));
      expect(index.present(text)).toEqual(expected);
    }
  });

  it('a text made of keywords is read once', () => {
    const index = createKeywordIndex(['ab', 'b', 'abab']);
    expect(index.present('ab'.repeat(100_000))).toEqual(new Set(['ab', 'b', 'abab']));
    expect(createKeywordIndex([]).present('anything')).toEqual(new Set());
  });
});
