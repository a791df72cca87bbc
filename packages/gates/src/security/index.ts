export {
  type AuditDependenciesOptions,
  auditDependencies,
  type DependencyAuditResult,
  type DependencyVulnerability,
} from './audit/audit.js';
export { EMBEDDED_ADVISORIES } from './audit/embedded-advisories.js';
export { lockfileLine } from './audit/lockfile-line.js';
export {
  type AuditEcosystem,
  diffLockedPackages,
  isAuditedLockfile,
  LOCKFILE_NAMES,
  type LockedPackage,
  normalizePypiName,
  parseLockfile,
  registryTarballPackage,
  UNAUDITED_LOCKFILES,
  unauditedLockfileEcosystem,
  unpinnedRequirements,
} from './audit/lockfiles.js';
export {
  compareVersions,
  type OsvAdvisory,
  type OsvAffected,
  type OsvEvent,
  type OsvRange,
  osvAffects,
  versionInOsvRange,
} from './audit/osv.js';
export {
  createOsvCache,
  defaultOsvCacheDir,
  OSV_CACHE_DEFAULT_TTL_MS,
  type OsvCache,
  type OsvCacheOptions,
  type OsvVulnRef,
} from './audit/osv-cache.js';
export {
  createOsvClient,
  displayUrl,
  OSV_DEFAULT_TIMEOUT_MS,
  OSV_MAX_BATCH,
  type OsvClient,
  type OsvClientOptions,
} from './audit/osv-client.js';
export { advisorySourcesFromSettings } from './audit/scan-audit.js';
export {
  type AdvisoryMatch,
  type AdvisorySource,
  type AuditFetch,
  embeddedAdvisorySource,
  npmBulkAdvisorySource,
  type OnlineSourceOptions,
  type OsvApiSourceOptions,
  osvAdvisoriesSource,
  osvApiSource,
  osvBatchSource,
  osvDirectorySource,
  type PipAuditSourceOptions,
  pipAuditSource,
} from './audit/sources.js';
export {
  loadTrustedScanConfig,
  SCAN_CONFIG_FILES,
  type TrustedScanConfig,
  type TrustedScanConfigOptions,
} from './base-config.js';
export {
  compileSecretsConfig,
  confinedTreePath,
  countCaptureGroups,
  type LoadedSecretsConfig,
  loadSecretsConfig,
  MAX_EXTEND_DEPTH,
  parseSecretsConfig,
  parseSecretsConfigChain,
  type RawSecretAllowlist,
  type RawSecretRule,
  type RawSecretsConfig,
  rawAllowlistSchema,
  rawConfigSchema,
  rawRuleRequirementSchema,
  rawRuleSchema,
  type SecretsConfigSource,
} from './config.js';
export { CSV_COLUMNS, formatCsv } from './csv.js';
export { DEFAULT_MAX_DECODE_DEPTH, MAX_DECODE_DEPTH } from './decode.js';
export { DEFAULT_SECRETS_CONFIG } from './default-rules.js';
export { DIR_SCAN_MAX_FILE_BYTES, type DirScanOptions, scanDirectory } from './dir-scan.js';
export { shannonEntropy } from './entropy.js';
export {
  formatSarif,
  formatSecurityOutcome,
  SECURITY_OUTPUT_FORMATS,
  type SecurityOutputFormat,
  withRedaction,
} from './formats.js';
export { createSecurityGate, type SecurityGateOptions, securityReportPath } from './gate.js';
export {
  type GitObject,
  type RangeChange,
  type RangeCommit,
  readObjects,
  readRangeCommits,
  type ScanGitOptions,
} from './git-objects.js';
export { resolveSecurityRange, type SecurityRange } from './git-range.js';
export { readRangePatch } from './git-text.js';
export { type GitleaksEngineOptions, runGitleaksEngine } from './gitleaks-engine.js';
export { parseGitleaksIgnore, parseSecretsBaseline, readSecretsBaseline } from './ignore.js';
export { formatJunit } from './junit.js';
export { type LogOpts, parseLogOpts } from './log-opts.js';
export { type OffThreadScanOptions, scanSecretsOffThread } from './off-thread.js';
export { PATCH_LOG_FORMAT, type ParsedPatchLog, type PatchCommit, type PatchFragment, parsePatchLog } from './patch.js';
export { findingSecrets, redactDeep, redactFinding, redactSecret, redactText } from './redact.js';
export { compileSecretRegex } from './regex.js';
export {
  readSecurityReport,
  SECURITY_REPORT_FILE,
  type SecurityReport,
  type SecurityReportExpectation,
  securityReportContradiction,
  securityReportFrontmatterSchema,
  securityReportMismatch,
  writeSecurityReport,
} from './report.js';
export { currentFingerprints, currentRuleIds, RULE_ID_ALIASES } from './rule-aliases.js';
export {
  describeSecretFinding,
  describeVulnerability,
  type LocatedVulnerability,
  runSecurityScan,
  type SecurityScanOptions,
  type SecurityScanOutcome,
} from './run-scan.js';
export {
  baselineKey,
  baselineKeys,
  INLINE_ALLOW_IGNORED_TAG,
  type ScanFragmentsOptions,
  scanFragments,
  scanText,
} from './scanner.js';
export {
  COMMIT_HEADER_FILE,
  COMMIT_MESSAGE_FILE,
  MAX_MATCHES_PER_RULE_AND_BLOB,
  SCAN_CONFIG_CHANGED_RULE,
  type ScanSecretsOptions,
  type SecretsScanResult,
  scanSecrets,
} from './secrets.js';
export {
  type SecuritySettings,
  type SecuritySettingsInput,
  securityAdvisorySourceNames,
  securitySettingsSchema,
} from './settings.js';
export type {
  AllowlistCondition,
  RegexMatch,
  RegexTarget,
  SecretAllowlist,
  SecretFinding,
  SecretRegex,
  SecretRequiredFinding,
  SecretRule,
  SecretRuleRequirement,
  SecretsConfig,
} from './types.js';
