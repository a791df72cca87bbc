import { type ConveyorErrorCode, conveyorError } from '@conveyor/core';

/** The package name errors of `@conveyor/agents` carry. */
export const PKG = '@conveyor/agents';

/** A `ConveyorError` of this package. */
export function agentsError(code: ConveyorErrorCode, message: string, details?: Record<string, unknown>) {
  return conveyorError(PKG, code, message, details === undefined ? {} : { details });
}
