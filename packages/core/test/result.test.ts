import { describe, expect, it } from 'vitest';
import {
  ConveyorError,
  conveyorError,
  Err,
  err,
  fromPromise,
  Ok,
  ok,
  type Result,
  toConveyorError,
  tryAsync,
  tryCatch,
} from '../src/index.js';

const PKG = '@conveyor/core';
const parse = (text: string): Result<number, string> => {
  const n = Number(text);
  return Number.isNaN(n) ? err(`not a number: ${text}`) : ok(n);
};

describe('Result', () => {
  it('ok and err carry their value and discriminant', () => {
    const a = ok(1);
    const b = err<number, string>('no');
    expect(a).toBeInstanceOf(Ok);
    expect(b).toBeInstanceOf(Err);
    expect(a.ok && a.value).toBe(1);
    expect(!b.ok && b.error).toBe('no');
    expect([a.isOk(), a.isErr(), b.isOk(), b.isErr()]).toEqual([true, false, false, true]);
    const v = ok();
    expect(v.ok && v.value).toBeUndefined();
  });

  it('map transforms only a success', () => {
    expect(parse('2').map((n) => n * 10)).toEqual(ok(20));
    expect(parse('x').map((n) => n * 10)).toEqual(err('not a number: x'));
  });

  it('andThen chains and short-circuits', () => {
    let called = false;
    const half = (n: number): Result<number, string> => {
      called = true;
      return n % 2 === 0 ? ok(n / 2) : err(`odd: ${n}`);
    };
    expect(parse('8').andThen(half)).toEqual(ok(4));
    expect(parse('7').andThen(half)).toEqual(err('odd: 7'));
    called = false;
    expect(parse('x').andThen(half)).toEqual(err('not a number: x'));
    expect(called).toBe(false);
  });

  it('match picks the right branch; unwrapOr falls back only on failure', () => {
    const show = (r: Result<number, string>) => r.match({ ok: (v) => `ok ${v}`, err: (e) => `err ${e}` });
    expect(show(parse('3'))).toBe('ok 3');
    expect(show(parse('q'))).toBe('err not a number: q');
    expect(parse('3').unwrapOr(0)).toBe(3);
    expect(parse('q').unwrapOr(0)).toBe(0);
  });
});

describe('ConveyorError', () => {
  it('carries pkg, code, message, cause and frozen details', () => {
    const cause = new Error('socket hang up');
    const e = new ConveyorError('@conveyor/adapter-plane', 'network', 'Plane unreachable', {
      cause,
      details: { status: 0 },
    });
    expect(e).toBeInstanceOf(Error);
    expect([e.name, e.pkg, e.code, e.message, e.cause]).toEqual([
      'ConveyorError',
      '@conveyor/adapter-plane',
      'network',
      'Plane unreachable',
      cause,
    ]);
    expect(Object.isFrozen(e.details)).toBe(true);
    expect(e.toJSON()).toEqual({
      name: 'ConveyorError',
      pkg: '@conveyor/adapter-plane',
      code: 'network',
      message: 'Plane unreachable',
      details: { status: 0 },
      cause: 'socket hang up',
    });
  });

  it('retryable only for network, timeout, rate limit and busy lease', () => {
    const retryable = (code: ConveyorError['code']) => conveyorError(PKG, code, 'x').retryable;
    expect(
      ['network', 'timeout', 'rate_limited', 'lease_busy'].map((c) => retryable(c as ConveyorError['code'])),
    ).toEqual([true, true, true, true]);
    expect(
      ['api_refused', 'not_found', 'conflict', 'internal'].map((c) => retryable(c as ConveyorError['code'])),
    ).toEqual([false, false, false, false]);
  });

  it('toConveyorError keeps a ConveyorError and wraps anything else', () => {
    const original = conveyorError(PKG, 'conflict', 'version moved');
    expect(toConveyorError(PKG, original)).toBe(original);
    const wrapped = toConveyorError('@conveyor/gates', new Error('git exited 128'), 'git_failed', 'rebase failed');
    expect([wrapped.pkg, wrapped.code, wrapped.message]).toEqual([
      '@conveyor/gates',
      'git_failed',
      'rebase failed: git exited 128',
    ]);
    const fromString = toConveyorError(PKG, 'plain');
    expect([fromString.code, fromString.message, fromString.cause]).toEqual(['internal', 'plain', 'plain']);
  });
});

describe('turning throws and rejections into Results', () => {
  const onThrow = (e: unknown) => toConveyorError(PKG, e, 'invalid_input');

  it('tryCatch', () => {
    expect(tryCatch(() => JSON.parse('{"a":1}') as unknown, onThrow)).toEqual(ok({ a: 1 }));
    const bad = tryCatch(() => JSON.parse('{') as unknown, onThrow);
    expect(!bad.ok && bad.error.code).toBe('invalid_input');
  });

  it('tryAsync handles a value, a promise, a sync throw and a rejection', async () => {
    expect(await tryAsync(() => 5, onThrow)).toEqual(ok(5));
    expect(await tryAsync(async () => 6, onThrow)).toEqual(ok(6));
    const thrown = await tryAsync(() => {
      throw new Error('sync');
    }, onThrow);
    expect(!thrown.ok && thrown.error.message).toBe('sync');
    const rejected = await tryAsync(() => Promise.reject(new Error('async')), onThrow);
    expect(!rejected.ok && rejected.error.message).toBe('async');
  });

  it('fromPromise settles into a Result', async () => {
    expect(await fromPromise(Promise.resolve('v'), onThrow)).toEqual(ok('v'));
    const rejected = await fromPromise(Promise.reject(new Error('gone')), (e) => toConveyorError(PKG, e, 'not_found'));
    expect(!rejected.ok && [rejected.error.code, rejected.error.message]).toEqual(['not_found', 'gone']);
  });
});
