import * as z from 'zod';

/**
 * The staging verdict's settings. `stagingStrict` is the kill switch: with it
 * on, a sandbox-infra failure fails like any other. Whether the gate runs is
 * core's `stagingGateEnabled` / `stagingGateRepos`.
 */
export const stagingSettingsSchema = z.object({
  /** exact ids of checks that test the sandbox, not the product (keep it short) */
  stagingInfraAllowlist: z
    .array(z.string().min(1))
    .default([])
    .describe('exact ids of checks that test the sandbox, not the product (keep it short)'),
  /** the kill switch: no failure is waived */
  stagingStrict: z.boolean().default(false).describe('the kill switch: no failure is waived'),
  /** where the gate writes `<taskId>/staging.md` when the context gives no report dir */
  stagingReportDir: z
    .string()
    .min(1)
    .optional()
    .describe('where the gate writes `<taskId>/staging.md` when the context gives no report dir'),
  /** per check, in the runner */
  stagingCheckTimeoutMs: z.number().int().positive().default(300_000).describe('per check, in the runner'),
});

/** Parsed staging settings. */
export type StagingSettings = z.output<typeof stagingSettingsSchema>;
/** Staging settings as written by a person. */
export type StagingSettingsInput = z.input<typeof stagingSettingsSchema>;
