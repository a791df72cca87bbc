import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CommitState,
  type ConveyorError,
  type CoreSettings,
  conveyorError,
  err,
  type Forge,
  type GateRegistry,
  ok,
  type Result,
  type Store,
  type Task,
} from '@conveyor/core';
import {
  type ArtifactInfo,
  type BranchHeadReader,
  createFreshnessGate,
  createMergeGate,
  createSecurityGate,
  createStagingGate,
  gitBranchHead,
  type MergeSettings,
  type SecuritySettings,
  type StagingCheckResult,
  type StagingSettings,
  withTaskCheckout,
} from '@conveyor/gates';
import { z } from 'zod';

const PKG = '@conveyor/example-server';

/** The edge every delivery gate of the example host sits on. */
export const DELIVERY_EDGE = 'deploy-staging->deploy';

/**
 * The gates of {@link DELIVERY_EDGE}, in the order they run: the cheap scan
 * first; then the staging verdict (the checks the deploy-staging job reported),
 * so a red staging never reaches main; then the merge (rebase, retest, merge);
 * then freshness (the image that will be deployed was built from the merged head).
 */
export const DELIVERY_GATES = Object.freeze([
  { id: 'security', order: 10 },
  { id: 'staging', order: 15 },
  { id: 'merge', order: 20 },
  { id: 'freshness', order: 30 },
] as const);

/** What {@link registerHostGates} needs. */
export interface HostGatesOptions {
  readonly registry: GateRegistry;
  readonly store: Pick<Store, 'acquireLease' | 'renewLease' | 'releaseLease'>;
  readonly forge: Forge;
  readonly core: CoreSettings;
  readonly security: SecuritySettings;
  readonly merge: MergeSettings;
  readonly staging: StagingSettings;
  /** the host's data folder: checkouts live under it */
  readonly dataDir: string;
  /** the clone URL of `owner/name` */
  readonly remoteUrl: (repo: string) => string;
  /** the commit status that says the image was built from the head */
  readonly freshnessStatusContext: string;
  readonly freshnessDeferMs: number;
  /** the branch head reader (default `git ls-remote` on `remoteUrl`) */
  readonly readHead?: BranchHeadReader;
  /** added to git's environment (tests) */
  readonly gitEnv?: Readonly<Record<string, string>>;
}

const headOf = async (
  readHead: BranchHeadReader,
  task: Task,
  signal: AbortSignal,
): Promise<Result<string, ConveyorError>> => {
  const head = await readHead(task, signal);
  if (!head.ok) return err(head.error);
  if (head.value === undefined) return err(conveyorError(PKG, 'not_found', `branch ${task.branch} does not exist`));
  return ok(head.value);
};

const checkFileSchema = z
  .array(
    z.object({
      id: z.string().min(1),
      state: z.string(),
      detail: z.string().optional(),
    }),
  )
  .max(500);

/**
 * Reads the staging checks the deploy-staging job reported: a JSON array of
 * `{ id, state, detail? }` (`state`: `success`, `failure` or `error`) written
 * to `$CONVEYOR_STAGING_CHECKS` (see {@link stagingChecksFile}). The file is
 * removed when a deploy-staging job starts, so a verdict never reads the checks
 * of an earlier attempt. Which check may be sandbox trouble is the host's
 * allowlist (`ORCH_STAGING_INFRA_ALLOWLIST`), never the file: a check cannot
 * declare itself waivable. No file, or one that does not parse, is an error
 * (the gate fails and says which file and field).
 *
 * @example
 * ```ts
 * const readChecks = stagingChecksFromFile((task) => stagingChecksFile(dataDir, task.id));
 * ```
 */
export function stagingChecksFromFile(pathOf: (task: Task) => string) {
  return async (task: Task): Promise<Result<readonly StagingCheckResult[], ConveyorError>> => {
    const path = pathOf(task);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return err(
        conveyorError(PKG, 'not_found', `the deploy-staging job reported no checks (no file ${path})`, {
          details: { path },
        }),
      );
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return err(conveyorError(PKG, 'invalid_input', `${path} is not JSON`, { details: { path } }));
    }
    const parsed = checkFileSchema.safeParse(data);
    if (!parsed.success) {
      const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
      return err(conveyorError(PKG, 'invalid_input', `${path}: ${where}`, { details: { path } }));
    }
    return ok(parsed.data.map((c) => ({ id: c.id, state: c.state, ...(c.detail ? { detail: c.detail } : {}) })));
  };
}

/**
 * Where the deploy-staging job of a task reports its staging checks
 * (`<dataDir>/staging/<taskId>.json`, given to the job as `CONVEYOR_STAGING_CHECKS`).
 *
 * @example
 * ```ts
 * stagingChecksFile('/var/conveyor', 't1'); // '/var/conveyor/staging/t1.json'
 * ```
 */
export function stagingChecksFile(dataDir: string, taskId: string): string {
  return join(dataDir, 'staging', `${taskId.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`);
}

const BUILT: readonly CommitState[] = ['success'];
const BUILDING: readonly (CommitState | undefined)[] = ['pending', undefined];

/**
 * Reads what the deployable image was built from: the `context` commit status
 * of the branch head. `success` → built from the head; `pending` or no status
 * yet (the CI has not picked up the push) → a build is running; anything else
 * → not built from the head (rebuild needed).
 *
 * @example
 * ```ts
 * const readArtifact = imageFromStatus(forge, gitBranchHead(cloneUrl), 'image/build');
 * ```
 */
export function imageFromStatus(forge: Pick<Forge, 'getCombinedStatus'>, readHead: BranchHeadReader, context: string) {
  return async (task: Task): Promise<Result<ArtifactInfo, ConveyorError>> => {
    const head = await headOf(readHead, task, AbortSignal.timeout(60_000));
    if (!head.ok) return err(head.error);
    const combined = await forge.getCombinedStatus(task.repo, head.value);
    if (!combined.ok) return err(combined.error);
    const state = combined.value.statuses.find((s) => s.context === context)?.state;
    if (state !== undefined && BUILT.includes(state)) return ok({ builtFromSha: head.value });
    return ok({ building: BUILDING.includes(state) });
  };
}

/**
 * Registers the example host's gates on `deploy-staging -> deploy` in
 * {@link DELIVERY_GATES} order, each behind its kill-switch
 * (`ORCH_<GATE>_GATE_ENABLED`) and repository scope (`ORCH_<GATE>_GATE_REPOS`).
 *
 * @example
 * ```ts
 * const registered = registerHostGates({ registry, store, forge, core, security, merge, staging, dataDir, remoteUrl,
 *   freshnessStatusContext: 'image/build', freshnessDeferMs: 60_000 });
 * if (!registered.ok) throw registered.error;
 * ```
 */
export function registerHostGates(options: HostGatesOptions): Result<void, ConveyorError> {
  const { registry, core, remoteUrl } = options;
  const gitEnv = options.gitEnv === undefined ? {} : { gitEnv: options.gitEnv };
  const readHead =
    options.readHead ?? gitBranchHead(remoteUrl, options.gitEnv === undefined ? {} : { env: options.gitEnv });
  const checkout = { root: join(options.dataDir, 'checkouts'), remoteUrl, ...gitEnv };
  const gates = {
    security: {
      gate: withTaskCheckout(createSecurityGate(options.security), checkout),
      enabled: core.securityGateEnabled,
      scope: core.securityGateRepos,
    },
    staging: {
      gate: createStagingGate({
        readChecks: stagingChecksFromFile((task) => stagingChecksFile(options.dataDir, task.id)),
        settings: options.staging,
      }),
      enabled: core.stagingGateEnabled,
      scope: core.stagingGateRepos,
    },
    merge: {
      gate: createMergeGate({
        store: options.store,
        forge: options.forge,
        settings: options.merge,
        remoteUrl,
        ...gitEnv,
      }),
      enabled: core.mergeGateEnabled,
      scope: core.mergeGateRepos,
    },
    freshness: {
      gate: createFreshnessGate({
        readHead,
        readArtifact: imageFromStatus(options.forge, readHead, options.freshnessStatusContext),
        deferMs: options.freshnessDeferMs,
      }),
      enabled: core.freshnessGateEnabled,
      scope: core.freshnessGateRepos,
    },
  };
  for (const { id, order } of DELIVERY_GATES) {
    const { gate, enabled, scope } = gates[id];
    const registered = registry.register(DELIVERY_EDGE, gate, { order, enabled, scope });
    if (!registered.ok) return registered;
  }
  return ok();
}
