export {
  createProcessLauncher,
  type ExitRecord,
  logFileFor,
  type ProcessLauncherOptions,
  readExitRecord,
} from './process-launcher.js';
export { createProcessProbe } from './process-probe.js';
