export {
  ConveyorError,
  type ConveyorErrorCode,
  type ConveyorErrorOptions,
  conveyorError,
  fromPromise,
  toConveyorError,
  tryAsync,
  tryCatch,
} from './errors.js';
export { type AsyncResult, Err, err, Ok, ok, type Result } from './result.js';
