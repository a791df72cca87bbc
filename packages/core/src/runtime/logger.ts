import type { LogFields, Logger } from '../ports/runtime.js';

/** Log levels, least to most severe. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Where a console logger writes: anything with `write(string)` (a stream). */
export interface LogSink {
  write(chunk: string): unknown;
}

/** Options of {@link createConsoleLogger}. */
export interface ConsoleLoggerOptions {
  /** lines below this level are dropped (default `info`) */
  readonly level?: LogLevel;
  /** one JSON object per line (default `true`); `false` writes `time level message key=value…` */
  readonly json?: boolean;
  /** default `process.stderr` */
  readonly stream?: LogSink;
  /** the time of each line (default `Date.now`) */
  readonly now?: () => number;
}

function safeValue(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function serialise(record: Record<string, unknown>): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(record, (_key, value: unknown) => {
    const v = safeValue(value);
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[circular]';
      seen.add(v);
    }
    return v;
  });
}

/**
 * A structured logger writing one line per call: JSON lines by default
 * (`{"time":…,"level":"info","msg":…,…fields}`). It never throws: a field that
 * cannot be serialised is written as a note, a failing stream is ignored.
 *
 * @example
 * ```ts
 * const logger = createConsoleLogger({ level: 'debug' });
 * logger.child({ daemon: 'worker' }).info('claimed jobs', { count: 2 });
 * ```
 */
export function createConsoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const min = RANK[options.level ?? 'info'];
  const json = options.json ?? true;
  const stream: LogSink = options.stream ?? process.stderr;
  const now = options.now ?? (() => Date.now());

  const make = (bindings: LogFields): Logger => {
    const write = (level: LogLevel, message: string, fields?: LogFields): void => {
      if (RANK[level] < min) return;
      try {
        const time = new Date(now()).toISOString();
        const merged = { ...bindings, ...(fields ?? {}) };
        let line: string;
        if (json) {
          try {
            line = serialise({ time, level, msg: message, ...merged });
          } catch (thrown) {
            line = serialise({ time, level, msg: message, logError: `fields not serialisable: ${String(thrown)}` });
          }
        } else {
          const rest = Object.entries(merged)
            .map(([k, v]) => {
              let text: string;
              try {
                text = typeof v === 'string' ? v : serialise({ v }).slice(5, -1);
              } catch {
                text = '[unserialisable]';
              }
              return `${k}=${text}`;
            })
            .join(' ');
          line = `${time} ${level.toUpperCase()} ${message}${rest === '' ? '' : ` ${rest}`}`;
        }
        stream.write(`${line}\n`);
      } catch {
        // a logger must never break its caller
      }
    };
    return {
      debug: (message, fields) => write('debug', message, fields),
      info: (message, fields) => write('info', message, fields),
      warn: (message, fields) => write('warn', message, fields),
      error: (message, fields) => write('error', message, fields),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return make({});
}

/**
 * A logger that drops everything.
 *
 * @example
 * ```ts
 * const verdict = await registry.runEdge(edge, { task, logger: silentLogger, now: Date.now, readOnly: false });
 * ```
 */
export const silentLogger: Logger = Object.freeze({
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
});

/**
 * Wraps a logger so that none of its methods can throw (a broken log sink
 * must not break a daemon). `child` loggers are wrapped too.
 *
 * @example
 * ```ts
 * const logger = safeLogger(hostLogger);
 * logger.info('tick'); // never throws, whatever hostLogger does
 * ```
 */
export function safeLogger(logger: Logger): Logger {
  const guard =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      try {
        logger[level](message, fields);
      } catch {
        // swallowed on purpose: logging is best effort
      }
    };
  return {
    debug: guard('debug'),
    info: guard('info'),
    warn: guard('warn'),
    error: guard('error'),
    child(bindings) {
      try {
        return safeLogger(logger.child(bindings));
      } catch {
        // the bindings are lost, the lines are not
        return safeLogger(logger);
      }
    },
  };
}
