import type { LogFields, Logger } from '../ports/runtime.js';

/** Wraps a logger so a throwing logger can never break the runtime. */
export function guardLogger(logger: Logger): Logger {
  const call = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: LogFields) => {
    try {
      logger[level](message, fields);
    } catch {
      /* a broken logger must not break a daemon */
    }
  };
  return {
    debug: (m, f) => call('debug', m, f),
    info: (m, f) => call('info', m, f),
    warn: (m, f) => call('warn', m, f),
    error: (m, f) => call('error', m, f),
    child(bindings) {
      try {
        return guardLogger(logger.child(bindings));
      } catch {
        return guardLogger(logger);
      }
    },
  };
}

/** A short text of any thrown value or error, for log fields. */
export function describeError(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message : String(thrown);
}
