import * as z from 'zod';
import { OSV_CACHE_DEFAULT_TTL_MS, OSV_DEFAULT_TIMEOUT_MS } from './audit/osv-defaults.js';
import { DEFAULT_MAX_DECODE_DEPTH, MAX_DECODE_DEPTH } from './decode.js';

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
  securityDepAuditFailClosed: bool
    .default(false)
    .describe('fail when an advisory feed cannot be consulted (default: pass with a loud warning)'),
  /** run the dependency audit at all */
  securityDepAuditEnabled: bool.default(true).describe('run the dependency audit at all'),
  /** `builtin` (no binary needed) or the real `gitleaks` binary */
  securityEngine: z
    .enum(['builtin', 'gitleaks'])
    .default('builtin')
    .describe('`builtin` (no binary needed) or the real `gitleaks` binary'),
  /** a secrets config: a repository path read from the range's base commit, or an absolute path on the host */
  securityConfigPath: z
    .string()
    .min(1)
    .optional()
    .describe(
      "a secrets config: a repository path read from the range's base commit (default `.gitleaks.toml` when present there), or an absolute path on the host",
    ),
  /** the gitleaks executable for `securityEngine: 'gitleaks'` */
  securityGitleaksPath: z
    .string()
    .min(1)
    .optional()
    .describe("the gitleaks executable for `securityEngine: 'gitleaks'`"),
  /** a gitleaks JSON baseline report: a repository path read from the base commit, or an absolute host path */
  securityBaselinePath: z
    .string()
    .min(1)
    .optional()
    .describe('a gitleaks JSON baseline report: a repository path read from the base commit, or an absolute host path'),
  /** the ignore list (`.gitleaksignore` format): a repository path read from the base commit, or an absolute host path */
  securityIgnorePath: z
    .string()
    .min(1)
    .optional()
    .describe(
      'the ignore list (.gitleaksignore format): a repository path read from the base commit (default `.gitleaksignore`), or an absolute host path',
    ),
  /** the whole gate's time budget (scan and audit) in ms */
  securityTimeoutMs: z.coerce
    .number()
    .int()
    .positive()
    .default(300_000)
    .describe("the whole gate's time budget (scan and audit) in ms"),
  /** the base of the scanned range */
  securityBaseRef: z.string().min(1).default('origin/main').describe('the base of the scanned range'),
  /** the head of the scanned range */
  securityHeadRef: z.string().min(1).default('HEAD').describe('the head of the scanned range'),
  /** advisory sources, in order; never empty (an audit with no source checks nothing) */
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
    .pipe(
      z.array(z.enum(securityAdvisorySourceNames)).min(1, {
        message: `ORCH_SECURITY_ADVISORY_SOURCES (securityAdvisorySources) names no advisory source: an audit with no source checks nothing; name at least one of ${securityAdvisorySourceNames.join(', ')} (the default is osv-api), or turn the audit off with ORCH_SECURITY_DEP_AUDIT_ENABLED=false`,
      }),
    )
    .default(['osv-api'])
    .describe(
      'advisory sources, in order (never empty); `osv-api` (default) falls back to the small embedded set, loudly, when OSV cannot be reached',
    ),
  /** an offline OSV JSON directory for the `osv-dir` source */
  securityAdvisoryDir: z.string().min(1).optional().describe('an offline OSV JSON directory for the `osv-dir` source'),
  securityOsvApiUrl: z
    .string()
    .url()
    .default('https://api.osv.dev')
    .describe('the OSV API address for the osv-api source'),
  securityOsvCacheDir: z
    .string()
    .min(1)
    .optional()
    .describe(
      'the on-disk cache of the osv-api source (default `$XDG_CACHE_HOME/conveyor/osv`); keep it out of reach of agent jobs',
    ),
  securityOsvCacheTtlMs: z.coerce
    .number()
    .int()
    .min(0)
    .default(OSV_CACHE_DEFAULT_TTL_MS)
    .describe('how long a cached OSV answer for a package version stays fresh (ms; 0 = always ask OSV)'),
  securityOsvTimeoutMs: z.coerce
    .number()
    .int()
    .positive()
    .default(OSV_DEFAULT_TIMEOUT_MS)
    .describe('timeout of one OSV API request (ms); 429 and 5xx answers are retried with backoff'),
  securityNpmRegistryUrl: z
    .string()
    .url()
    .default('https://registry.npmjs.org')
    .describe('the npm registry address for the npm-bulk source'),
  securityPipAuditPath: z.string().min(1).optional().describe('the pip-audit executable for the pip-audit source'),
  /** honour inline `gitleaks:allow` markers (default: a marker the branch wrote is reported, not honoured) */
  securityHonourInlineAllow: bool
    .default(false)
    .describe('honour inline `gitleaks:allow` markers (default: a marker the branch wrote is reported, not honoured)'),
  /** how many times encoded text (base64, hex, percent, unicode escapes) is decoded and scanned again */
  securityMaxDecodeDepth: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_DECODE_DEPTH)
    .default(DEFAULT_MAX_DECODE_DEPTH)
    .describe(
      `how many times encoded text (base64, hex, percent, unicode escapes) is decoded and scanned again, as gitleaks' --max-decode-depth (0 = off, at most ${MAX_DECODE_DEPTH})`,
    ),
  /** a branch that changes the scan configuration is warned about instead of failing */
  securityAllowScanConfigChanges: bool
    .default(false)
    .describe(
      'a branch that changes the scan configuration (.gitleaks.toml, its extend chain, .gitleaksignore, the baseline) gets a warning instead of a failing finding; the base commit version is used either way',
    ),
  /** where `17-security-report.md` is written (default: the context's report dir) */
  securityReportDir: z
    .string()
    .min(1)
    .optional()
    .describe("where `17-security-report.md` is written (default: the context's report dir)"),
});

/** Parsed security gate settings. */
export type SecuritySettings = z.output<typeof securitySettingsSchema>;
/** Security gate settings as a host writes them (every key optional). */
export type SecuritySettingsInput = z.input<typeof securitySettingsSchema>;
