// What the pipeline's parts share: the options, a guarded logger, and a task loader.
import type { Task } from '../ports/domain.js';
import type { Logger } from '../ports/runtime.js';
import { type ConveyorError, conveyorError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';
import type { PipelineOptions } from './types.js';

export const PKG = '@conveyor/core';

/** The pipeline's shared state: built once by `createPipeline`, read by its parts. */
export interface PipelineContext {
  readonly options: PipelineOptions;
  readonly logger: Logger;
  loadTask(taskId: string): Promise<Result<Task, ConveyorError>>;
}

export function createPipelineContext(options: PipelineOptions, logger: Logger): PipelineContext {
  return {
    options,
    logger,
    async loadTask(taskId) {
      const got = await options.store.getTask(taskId);
      if (!got.ok) return err(got.error);
      if (got.value === undefined) return err(conveyorError(PKG, 'not_found', `task ${taskId} does not exist`));
      return ok(got.value);
    },
  };
}
