import { describe, expect, it } from 'vitest';
import { createStoreErrors } from '../src/index.js';

const errors = createStoreErrors('@conveyor/store-x');

describe('createStoreErrors', () => {
  it('validators pass good input and name the bad one', () => {
    expect(errors.checkLimit('listTasks', undefined)).toBeUndefined();
    expect(errors.checkLimit('listTasks', 0)).toBeUndefined();
    expect(errors.checkLimit('listTasks', -1)?.message).toBe('listTasks: limit must be a non-negative integer, got -1');
    expect(errors.checkLimit('listJobs', 1.5)?.code).toBe('invalid_input');
    expect(errors.checkMaxConcurrency(0)).toBeUndefined();
    expect(errors.checkMaxConcurrency(Number.NaN)?.code).toBe('invalid_input');
    expect(errors.checkTtl('acquireLease', 'merge:a/b', 1)).toBeUndefined();
    expect(errors.checkTtl('acquireLease', 'merge:a/b', 0)?.message).toContain('merge:a/b');
  });

  it('errors carry the package, a code callers can act on, and details', () => {
    const conflict = errors.versionConflict('task_1', 4, 3);
    expect(conflict).toMatchObject({ pkg: '@conveyor/store-x', code: 'conflict' });
    expect(conflict.details).toEqual({ taskId: 'task_1', expectedVersion: 3, actualVersion: 4 });
    expect(errors.jobNotRunning('setJobPid', 'job_1', 'queued').details).toEqual({ jobId: 'job_1', status: 'queued' });
    const lost = errors.leaseLost({ name: 'merge:a/b', holder: 'h1', token: 2 }, { holder: 'h2', token: 3 });
    expect(lost.code).toBe('lease_lost');
    expect(lost.details).toMatchObject({ currentHolder: 'h2', currentToken: 3 });
    expect(errors.leaseLost({ name: 'n', holder: 'h', token: 1 }, undefined).details).not.toHaveProperty(
      'currentHolder',
    );
    expect(errors.closed('getTask', 'the memory store').code).toBe('internal');
    expect(errors.taskNotFound('saveTransition', 't').code).toBe('not_found');
    expect(errors.jobNotFound('finishJob', 'j').code).toBe('not_found');
  });
});
