import { z } from 'zod';

const bool = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes'),
]);

/** The advisory sources a host can enable by name. */
export const securityAdvisorySourceNames = ['embedded', 'osv-dir', 'osv-api', 'npm-bulk', 'pip-audit'] as const;

/**
 * Settings of the security gate (the kill-switch `securityGateEnabled` and
 * the repository scope `securityGateRepos` live in core's settings). Strings
 * from the environment are coerced (`"true"`, `"300000"`).
 *
 * @example
 * ```ts
 * const settings = securitySettingsSchema.parse({ securityDepAuditFailClosed: 'true' });
 * ```
 */
export const securitySettingsSchema = z.object({
  /** fail when an advisory feed cannot be consulted (default: pass with a loud warning) */
  securityDepAuditFailClosed: bool.default(false),
  /** run the dependency audit at all */
  securityDepAuditEnabled: bool.default(true),
  /** `builtin` (no binary needed) or the real `gitleaks` binary */
  securityEngine: z.enum(['builtin', 'gitleaks']).default('builtin'),
  /** a `.gitleaks.toml` relative to the repository (default: `.gitleaks.toml` when present) */
  securityConfigPath: z.string().min(1).optional(),
  /** the gitleaks executable for `securityEngine: 'gitleaks'` */
  securityGitleaksPath: z.string().min(1).optional(),
  /** a gitleaks JSON baseline report relative to the repository */
  securityBaselinePath: z.string().min(1).optional(),
  /** the whole gate's time budget (scan and audit) in ms */
  securityTimeoutMs: z.coerce.number().int().positive().default(300_000),
  /** the base of the scanned range */
  securityBaseRef: z.string().min(1).default('origin/main'),
  /** the head of the scanned range */
  securityHeadRef: z.string().min(1).default('HEAD'),
  /** advisory sources, in order */
  securityAdvisorySources: z
    .union([
      z.array(z.enum(securityAdvisorySourceNames)),
      z.string().transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(z.array(z.enum(securityAdvisorySourceNames)))
    .default(['embedded']),
  /** an offline OSV JSON directory for the `osv-dir` source */
  securityAdvisoryDir: z.string().min(1).optional(),
  securityOsvApiUrl: z.string().url().default('https://api.osv.dev'),
  securityNpmRegistryUrl: z.string().url().default('https://registry.npmjs.org'),
  securityPipAuditPath: z.string().min(1).optional(),
  /** where `17-security-report.md` is written (default: the context's report dir) */
  securityReportDir: z.string().min(1).optional(),
});

/** Parsed security gate settings. */
export type SecuritySettings = z.output<typeof securitySettingsSchema>;
/** Security gate settings as a host writes them (every key optional). */
export type SecuritySettingsInput = z.input<typeof securitySettingsSchema>;
