import { defineStages } from './define.js';
import type { StagesSpec } from './types.js';

const MINUTE = 60_000;

function buildDefaultStages(): StagesSpec {
  const spec = defineStages({
    stages: [
      { id: 'analysis', agent: 'analyst', approval: true, trackerState: 'Analysis', graceMs: 15 * MINUTE },
      { id: 'development', agent: 'developer', trackerState: 'In Progress', graceMs: 30 * MINUTE },
      {
        id: 'deploy-staging',
        agent: 'deployer',
        action: true,
        trackerState: 'Staging',
        graceMs: 10 * MINUTE,
        guardedExit: true,
      },
      { id: 'deploy', agent: 'deployer', action: true, trackerState: 'Deploying', graceMs: 10 * MINUTE },
      { id: 'done', trackerState: 'Done' },
    ],
  });
  // The input above is constant and covered by tests: an error here is a bug in this file.
  if (!spec.ok) throw spec.error;
  return spec.value;
}

/**
 * The self-hosting pipeline: `analysis` (an analyst's job, then a person's
 * approval) → `development` → `deploy-staging` → `deploy` → `done`. A failed
 * gate on any edge from `development` on rolls the task back to `development`
 * with the findings; a failed gate on `analysis->development` fails the task.
 * `deploy-staging -> deploy` is guarded: with no gate enabled and in scope it
 * does not pass.
 *
 * @example
 * ```ts
 * const first = transition(DEFAULT_STAGES, initialSnapshot(DEFAULT_STAGES), { type: 'task.created' });
 * ```
 */
export const DEFAULT_STAGES: StagesSpec = buildDefaultStages();
