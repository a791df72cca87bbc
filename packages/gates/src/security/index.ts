export {
  type AuditDependenciesOptions,
  auditDependencies,
  type DependencyAuditResult,
  type DependencyVulnerability,
} from './audit/audit.js';
export { EMBEDDED_ADVISORIES } from './audit/embedded-advisories.js';
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
  compileSecretsConfig,
  loadSecretsConfig,
  parseSecretsConfig,
  type RawSecretAllowlist,
  type RawSecretRule,
  type RawSecretsConfig,
  rawAllowlistSchema,
  rawConfigSchema,
  rawRuleSchema,
} from './config.js';
export { DEFAULT_SECRETS_CONFIG } from './default-rules.js';
export { shannonEntropy } from './entropy.js';
export { formatSecurityOutcome, type SecurityOutputFormat } from './formats.js';
export { createSecurityGate, type SecurityGateOptions } from './gate.js';
export { readRangePatch, resolveSecurityRange, type SecurityRange } from './git-range.js';
export { type GitleaksEngineOptions, runGitleaksEngine } from './gitleaks-engine.js';
export { parseGitleaksIgnore, readGitleaksIgnore, readSecretsBaseline } from './ignore.js';
export { PATCH_LOG_FORMAT, type ParsedPatchLog, type PatchCommit, type PatchFragment, parsePatchLog } from './patch.js';
export { redactFinding, redactSecret, redactText } from './redact.js';
export { compileSecretRegex } from './regex.js';
export {
  readSecurityReport,
  SECURITY_REPORT_FILE,
  type SecurityReport,
  securityReportContradiction,
  securityReportFrontmatterSchema,
  writeSecurityReport,
} from './report.js';
export {
  advisorySourcesFromSettings,
  describeSecretFinding,
  describeVulnerability,
  runSecurityScan,
  type SecurityScanOptions,
  type SecurityScanOutcome,
} from './run-scan.js';
export { type ScanFragmentsOptions, scanFragments, scanText } from './scanner.js';
export { type ScanSecretsOptions, type SecretsScanResult, scanSecrets } from './secrets.js';
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
  SecretRule,
  SecretsConfig,
} from './types.js';
