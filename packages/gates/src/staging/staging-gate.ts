import { join } from 'node:path';
import type { ConveyorError, Gate, GateContext, GateOutcome, Result, Task } from '@conveyor/core';
import { decideStaging, type StagingCheckResult } from './classify.js';
import { stagingVerdictFromReport, writeStagingReport } from './report.js';
import { type StagingSettingsInput, stagingSettingsSchema } from './settings.js';

/** Options of {@link createStagingGate}. */
export interface StagingGateOptions {
  /** the staging checks of the task's deployment (e.g. from the forge's commit statuses) */
  readonly readChecks: (
    task: Task,
    signal: AbortSignal,
  ) => Promise<Result<readonly StagingCheckResult[], ConveyorError>>;
  readonly settings?: StagingSettingsInput;
  /** a per-run override of the kill switch: `true` forces strict, `false` tolerant, `undefined` keeps the setting */
  readonly strictFor?: (task: Task) => boolean | undefined;
}

/**
 * The staging gate (id `staging`): classifies the staging checks (real vs.
 * sandbox-infra, by a narrow allowlist), folds them with core's `foldChecks`,
 * writes `<reportDir>/<taskId>/staging.md` with a `staging_status:` frontmatter
 * and answers the verdict read back from it. A failure to read the checks is
 * folded as an `error` check (so it fails, and the report says why); no
 * report directory, or a report that cannot be written, is `error`.
 *
 * @example
 * ```ts
 * const gate = createStagingGate({
 *   readChecks: async (task) => ok([{ id: 'e2e', state: 'success' }, { id: 'sandbox/dns', state: 'failure' }]),
 *   settings: { stagingInfraAllowlist: ['sandbox/dns'] },
 * });
 * ```
 */
export function createStagingGate(options: StagingGateOptions): Gate {
  const config = Object.freeze({ ...options });
  return Object.freeze({
    id: 'staging',
    run: async (ctx: GateContext): Promise<GateOutcome> => {
      const parsed = stagingSettingsSchema.safeParse(config.settings ?? {});
      if (!parsed.success) {
        return {
          status: 'error',
          summary: `invalid staging settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        };
      }
      const settings = parsed.data;
      const dir = ctx.reportDir ?? settings.stagingReportDir;
      if (dir === undefined)
        return { status: 'error', summary: 'staging gate: no report directory (ctx.reportDir or stagingReportDir)' };
      const strict = config.strictFor?.(ctx.task) ?? settings.stagingStrict;
      let checks: readonly StagingCheckResult[];
      try {
        const read = await config.readChecks(ctx.task, ctx.signal);
        checks = read.ok ? read.value : [{ id: 'staging/read-checks', state: 'error', detail: read.error.message }];
      } catch (thrown) {
        checks = [
          {
            id: 'staging/read-checks',
            state: 'error',
            detail: thrown instanceof Error ? thrown.message : String(thrown),
          },
        ];
      }
      const decision = decideStaging(checks, { infraAllowlist: settings.stagingInfraAllowlist, strict });
      const path = join(dir, ctx.task.id.replace(/[^A-Za-z0-9._-]+/g, '_'), 'staging.md');
      const written = await writeStagingReport(path, decision);
      if (!written.ok) return { status: 'error', summary: `cannot write the staging report: ${written.error.message}` };
      return stagingVerdictFromReport(path);
    },
  } satisfies Gate);
}
