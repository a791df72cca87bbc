import { describe, expect, it } from 'vitest';
import { maxMatchLength } from '../src/security/re2-translate.js';
import { compileSecretRegex } from '../src/security/regex.js';
import type { RegexMatch, SecretRegex } from '../src/security/types.js';
import { findAllNear, linesBack, linesOn, type TextRange } from '../src/security/windowed.js';

const touches = (m: RegexMatch, ranges: readonly TextRange[]) =>
  ranges.some((r) => m.start <= r.end && m.end >= r.start);

function compiled(source: string, engine: 'auto' | 're2js'): SecretRegex {
  const re = compileSecretRegex(source, { engine });
  if (typeof re === 'string') throw new Error(re);
  return re;
}

describe('maxMatchLength', () => {
  it('reads the bound off the syntax, and is unbounded for a star, a plus or an open repeat', () => {
    expect(maxMatchLength('key=([a-z0-9]{8})')).toBe(12);
    expect(maxMatchLength('(?i)(?:ab|abcd)x?')).toBe(5);
    expect(maxMatchLength('\\b[A-Z]{2,5}\\b')).toBe(5);
    expect(maxMatchLength('a.+')).toBe(Number.POSITIVE_INFINITY);
    expect(maxMatchLength('a*')).toBe(Number.POSITIVE_INFINITY);
    expect(maxMatchLength('a{3,}')).toBe(Number.POSITIVE_INFINITY);
    // a class that may match outside the BMP counts two code units per character
    expect(maxMatchLength('[^a]{3}')).toBe(6);
    expect(maxMatchLength('(unclosed')).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('findAllNear (a pattern searched only near ranges answers as the whole-text search)', () => {
  // patterns whose leftmost-first search is sensitive to where it starts: overlapping candidates, anchors, boundaries
  const patterns = [
    '[a-c]{3}',
    '(?:^|[\\s=])k=([0-9a-f]{4})',
    '\\b[A-C]{2,4}\\b',
    'ab|abc{0,3}',
    'x[\\s\\S]{0,4}y',
    '[0-9]{2}$',
    '(?m)^[a-c]{2}',
    'a[a-c]{0,6}?c',
  ];
  const alphabet = ['a', 'b', 'c', 'A', 'B', 'C', 'k=', '0', 'f', '1', ' ', '\n', '=', 'x', 'y', '9'];

  for (const engine of ['auto', 're2js'] as const) {
    it(`agrees on every match that touches a range, on random texts (${engine})`, () => {
      let seed = 11;
      const next = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        return seed;
      };
      let compared = 0;
      let windowedSearches = 0;
      for (const source of patterns) {
        const re = compiled(source, engine);
        const bound = maxMatchLength(source);
        expect(Number.isFinite(bound), source).toBe(true);
        for (let round = 0; round < 400; round += 1) {
          const len = 20 + (next() % 300);
          let text = '';
          while (text.length < len) text += alphabet[next() % alphabet.length];
          const ranges: TextRange[] = [];
          let at = next() % 40;
          while (at < text.length) {
            const end = Math.min(text.length, at + (next() % 6));
            ranges.push({ start: at, end });
            at = end + 1 + (next() % 120);
          }
          const whole = re.findAll(text).filter((m) => touches(m, ranges));
          const near = findAllNear(re, text, ranges, bound).filter((m) => touches(m, ranges));
          expect(near, `${source} on ${JSON.stringify(text)} near ${JSON.stringify(ranges)}`).toEqual(whole);
          compared += 1;
          if (ranges.some((r) => r.start > bound + 2)) windowedSearches += 1;
        }
      }
      expect(compared).toBe(patterns.length * 400);
      // most cases searched real windows, not the whole text
      expect(windowedSearches).toBeGreaterThan(compared / 2);
    });
  }

  it('searches the whole text when the window might start inside a match (and for an unbounded pattern)', () => {
    const reads: string[] = [];
    const inner = compiled('[a-c]{3}', 'auto');
    const spy: SecretRegex = {
      source: inner.source,
      test: (s) => inner.test(s),
      findAll: (s, limit) => {
        reads.push(s);
        return inner.findAll(s, limit);
      },
    };
    const text = `${'z'.repeat(50)}abcabcab${'z'.repeat(50)}`;
    // the range is the last "ab": the window starts in the run of a-c, where the whole-text search is mid-match
    const ranges = [{ start: 56, end: 58 }];
    const found = findAllNear(spy, text, ranges, 3);
    expect(reads.at(-1)).toBe(text);
    expect(found.filter((m) => touches(m, ranges))).toEqual(inner.findAll(text).filter((m) => touches(m, ranges)));
    reads.length = 0;
    findAllNear(spy, text, ranges, Number.POSITIVE_INFINITY);
    expect(reads).toEqual([text]);
    // far from any match, only the window is read
    reads.length = 0;
    findAllNear(spy, `${'z'.repeat(200)}abc${'z'.repeat(200)}`, [{ start: 201, end: 202 }], 3);
    expect(reads[0]?.length).toBeLessThan(20);
  });
});

describe('the lines around a place', () => {
  it('start at the line that holds it, also at the first unit of a text that starts with a newline', () => {
    // a search for the newline before offset 0 must not find the one at 0 itself: line 0 is the empty line
    expect(linesBack('\nabc\n', 0, 0)).toBe(0);
    expect(linesBack('\nabc\n', 0, 2)).toBe(0);
    expect(linesBack('\nabc\n', 1, 0)).toBe(1);
    expect(linesBack('\nabc\n', 3, 1)).toBe(0);
    expect(linesBack('a\nb\nc', 4, 1)).toBe(2);
    expect(linesOn('a\nb\nc', 0, 0)).toBe(1);
    expect(linesOn('a\nb\nc', 0, 5)).toBe(5);
  });
});
