export { createManualClock, type ManualClock, systemClock } from './clock.js';
export {
  type ConsoleLoggerOptions,
  createConsoleLogger,
  type LogLevel,
  type LogSink,
  safeLogger,
  silentLogger,
} from './logger.js';
