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

  it('flags in a text what present finds in its lower case, folding ASCII keywords while reading', () => {
    const flagsAsSet = (index: ReturnType<typeof createKeywordIndex>, text: string) =>
      new Set(index.keywords.filter((_, i) => index.flagsIn(text)[i] === 1));
    const ascii = createKeywordIndex(['key', 'ki', 'ik', 'api', 'xoxb-', 's3', 'ey']);
    const unicode = createKeywordIndex(['key', 'é', 'ſk', 'i\u0307k', 'σ']);
    let seed = 5;
    // the code units whose lower case differs: A-Z, Kelvin sign, capital I with dot, sigma, a surrogate pair
    const alphabet = [
      'k',
      'K',
      '\u212a',
      'e',
      'E',
      'y',
      'Y',
      'i',
      'I',
      '\u0130',
      '\u0307',
      'a',
      'P',
      'x',
      'O',
      'B',
      '-',
      's',
      'S',
      '\u017f',
      '3',
      'É',
      'é',
      'Σ',
      'σ',
      ' ',
      '\u{10400}',
      '\ud801',
    ];
    for (let n = 0; n < 2000; n += 1) {
      let text = '';
      for (let i = 0; i < n % 40; i += 1) {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        text += alphabet[seed % alphabet.length];
      }
      for (const index of [ascii, unicode]) {
        expect(flagsAsSet(index, text), JSON.stringify(text)).toEqual(index.present(text.toLowerCase()));
      }
    }
  });
});
