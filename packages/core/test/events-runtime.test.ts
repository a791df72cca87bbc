import { describe, expect, it } from 'vitest';
import {
  createConsoleLogger,
  createManualClock,
  type Logger,
  safeLogger,
  silentLogger,
  systemClock,
} from '../src/index.js';

function sink() {
  const lines: string[] = [];
  return { lines, stream: { write: (chunk: string) => lines.push(chunk) } };
}

describe('clocks', () => {
  it('systemClock reads the real time', () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('a manual clock only moves when told', () => {
    const clock = createManualClock(1_000);
    expect(clock.now()).toBe(1_000);
    expect(clock.advance(500)).toBe(1_500);
    expect(clock.now()).toBe(1_500);
    clock.set(42);
    expect(clock.now()).toBe(42);
    expect(createManualClock().now()).toBe(0);
  });
});

describe('createConsoleLogger', () => {
  it('writes one JSON line per call with level, time, message, bindings and fields', () => {
    const { lines, stream } = sink();
    const logger = createConsoleLogger({ level: 'debug', stream, now: () => 0 });
    logger.child({ daemon: 'worker' }).info('claimed jobs', { count: 2, error: new Error('e1') });
    logger.debug('dbg');
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'info',
      msg: 'claimed jobs',
      daemon: 'worker',
      count: 2,
      error: { name: 'Error', message: 'e1' },
    });
    expect(JSON.parse(lines[1] ?? '').level).toBe('debug');
  });

  it('drops lines below the level (default info)', () => {
    const { lines, stream } = sink();
    const logger = createConsoleLogger({ stream, level: 'warn' });
    logger.info('no');
    logger.warn('yes');
    logger.error('yes too');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['yes', 'yes too']);
    const dflt = sink();
    createConsoleLogger({ stream: dflt.stream }).debug('hidden');
    expect(dflt.lines).toEqual([]);
  });

  it('writes plain text lines when json is false', () => {
    const { lines, stream } = sink();
    createConsoleLogger({ stream, json: false, now: () => 0 }).warn('lease lost', { name: 'merge:acme/web', token: 3 });
    expect(lines).toEqual(['1970-01-01T00:00:00.000Z WARN lease lost name=merge:acme/web token=3\n']);
  });

  it('never throws: circular fields, bigint, a failing stream', () => {
    const { lines, stream } = sink();
    const logger = createConsoleLogger({ stream });
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    logger.info('odd fields', { circular, big: 10n });
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ circular: { a: 1, self: '[circular]' }, big: '10' });
    const broken = createConsoleLogger({
      stream: {
        write: () => {
          throw new Error('EPIPE');
        },
      },
    });
    expect(() => broken.error('x')).not.toThrow();
  });
});

describe('silentLogger and safeLogger', () => {
  it('silentLogger drops everything', () => {
    expect(() => silentLogger.child({ a: 1 }).error('x')).not.toThrow();
  });

  it('safeLogger swallows throws, also from children, and still forwards lines', () => {
    const seen: string[] = [];
    const throwing: Logger = {
      debug: () => {
        throw new Error('d');
      },
      info: (m) => {
        seen.push(m);
        throw new Error('i');
      },
      warn: () => {
        throw new Error('w');
      },
      error: () => {
        throw new Error('e');
      },
      child: () => {
        throw new Error('c');
      },
    };
    const logger = safeLogger(throwing);
    expect(() => {
      logger.debug('a');
      logger.info('b');
      logger.warn('c');
      logger.error('d');
      logger.child({ x: 1 }).info('from child');
    }).not.toThrow();
    expect(seen).toEqual(['b', 'from child']);
  });
});
