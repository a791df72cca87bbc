export { type CoreSettings, coreSettingsSchema, type LoadCoreSettingsOptions, loadCoreSettings } from './core.js';
export {
  DEFAULT_REAPER_INTERVAL_MS,
  DEFAULT_RECONCILER_INTERVAL_MS,
  DEFAULT_WORKER_INTERVAL_MS,
} from './daemon-defaults.js';
export {
  DEFAULT_ENV_PREFIX,
  describeSettings,
  type EnvSettingsOptions,
  envName,
  type ParsedEnvSettings,
  parseEnvSettings,
  renderEnvExample,
  type SettingDescription,
  type SettingKind,
} from './env.js';
