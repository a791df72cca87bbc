import type { ConveyorEventBus } from '../events/bus.js';
import type { Clock } from '../ports/runtime.js';
import { ConveyorError, describeError } from '../result/errors.js';
import { err, ok, type Result } from '../result/result.js';
import { DEFAULT_STAGES } from '../stages/defaults.js';
import { edgeId } from '../stages/define.js';
import type { StagesSpec } from '../stages/types.js';
import { findingsText } from './findings.js';
import type {
  EdgeVerdict,
  Finding,
  Gate,
  GateContext,
  GateOutcome,
  GateVerdict,
  SkippedGate,
  VerdictStatus,
} from './types.js';

const PKG = '@conveyor/core';

/** The default gate timeout: 10 minutes. */
export const DEFAULT_GATE_TIMEOUT_MS = 10 * 60_000;

/** How a gate is registered on an edge. */
export interface GateRegistration {
  /** lower runs first; ties run in registration order (default 0) */
  readonly order?: number;
  /** the kill-switch; a function is asked at every run (default true) */
  readonly enabled?: boolean | (() => boolean);
  /**
   * the repositories (`owner/name`, compared case-insensitively) the gate runs
   * for; empty or absent means the host's own repository only (every
   * repository when the registry has no `hostRepo`)
   */
  readonly scope?: readonly string[];
  /** overrides `gate.timeoutMs` and the registry default */
  readonly timeoutMs?: number;
}

/** Options of {@link createGateRegistry}. */
export interface GateRegistryOptions {
  /** the host's own repository: what an empty scope means */
  readonly hostRepo?: string | undefined;
  /** default 10 minutes */
  readonly defaultTimeoutMs?: number | undefined;
  /** measures durations (default `Date.now`) */
  readonly clock?: Clock | undefined;
  /** receives a `verdict` event per gate (`edge.decided` is the pipeline's, once per decision) */
  readonly events?: Pick<ConveyorEventBus, 'emit'> | undefined;
  /**
   * the stages the gates decide (default `DEFAULT_STAGES`): registering on an
   * edge they do not have is an error, and their guarded edges do not pass
   * with no gate enabled and in scope
   */
  readonly stages?: StagesSpec | undefined;
  /**
   * accept a gate scope that does not contain `hostRepo` (the gate then never
   * runs for the host's own repository). Default false: such a scope is refused
   * at registration, because it is usually a typo that switches the gate off.
   */
  readonly allowForeignScope?: boolean | undefined;
}

/** What `runEdge` needs: a gate context without the edge and signal, which the registry supplies. */
export type EdgeRunContext = Omit<GateContext, 'signal' | 'edge'> & {
  /** aborting it aborts the running gate and fails the gates not yet started */
  readonly signal?: AbortSignal;
  /**
   * called with each gate's verdict as it comes, before the next gate starts
   * (the pipeline records it); resolving to `false` stops the edge with `error`
   */
  readonly onVerdict?: (verdict: GateVerdict) => Promise<boolean>;
};

/** The gates of every edge, in order. */
export interface GateRegistry {
  /**
   * Adds a gate to an edge. `invalid_config` when the stages have no such edge
   * or the scope leaves out the host's repository (unless `allowForeignScope`);
   * `invalid_input` for a malformed gate or a second gate with the same id.
   */
  register(edge: string, gate: Gate, options?: GateRegistration): Result<void, ConveyorError>;
  /**
   * Runs the edge's enabled, in-scope gates for `ctx.task.repo` in order and
   * stops at the first non-`pass`. Never rejects: a gate that throws, rejects,
   * returns a malformed outcome or times out yields `error`. The summary names
   * every skipped gate and why; a guarded edge with no gate run is `error`.
   */
  runEdge(edge: string, ctx: EdgeRunContext): Promise<EdgeVerdict>;
  /** Ordered gate ids per edge, every registered gate (enabled or not). */
  snapshot(): Readonly<Record<string, readonly string[]>>;
}

interface Entry {
  readonly gate: Gate;
  readonly order: number;
  readonly seq: number;
  readonly enabled: boolean | (() => boolean);
  readonly scope: readonly string[];
  readonly timeoutMs: number | undefined;
}

const STATUSES: readonly VerdictStatus[] = ['pass', 'fail', 'defer', 'error'];
const SEVERITIES: readonly string[] = ['error', 'warning', 'info'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Why an outcome is malformed, or `undefined` when it is well-formed. */
function malformation(outcome: unknown): string | undefined {
  if (!isRecord(outcome)) return `expected an object, got ${outcome === null ? 'null' : typeof outcome}`;
  if (!STATUSES.includes(outcome.status as VerdictStatus))
    return `status ${JSON.stringify(outcome.status)} is not one of ${STATUSES.join(', ')}`;
  if (typeof outcome.summary !== 'string') return 'summary is not a string';
  if (outcome.findings !== undefined) {
    if (!Array.isArray(outcome.findings)) return 'findings is not an array';
    for (const [i, f] of outcome.findings.entries()) {
      if (!isRecord(f) || typeof f.message !== 'string') return `findings[${i}] has no message`;
      if (!SEVERITIES.includes(f.severity as string)) return `findings[${i}].severity is not error, warning or info`;
    }
  }
  if (
    outcome.warnings !== undefined &&
    (!Array.isArray(outcome.warnings) || outcome.warnings.some((w) => typeof w !== 'string'))
  ) {
    return 'warnings is not a list of strings';
  }
  if (
    outcome.deferMs !== undefined &&
    (typeof outcome.deferMs !== 'number' || !Number.isFinite(outcome.deferMs) || outcome.deferMs < 0)
  ) {
    return 'deferMs is not a number >= 0';
  }
  return undefined;
}

function normaliseRepo(repo: string): string {
  return repo.trim().toLowerCase();
}

type Settled =
  | { readonly kind: 'outcome'; readonly value: unknown }
  | { readonly kind: 'threw'; readonly error: unknown }
  | { readonly kind: 'timeout' };

/**
 * Creates a gate registry.
 *
 * @example
 * ```ts
 * const registry = createGateRegistry({ hostRepo: 'acme/conveyor', stages: DEFAULT_STAGES, events });
 * registry.register('deploy-staging->deploy', securityGate, { order: 10 });
 * registry.register('deploy-staging->deploy', mergeGate, { order: 20, enabled: () => settings.mergeGateEnabled });
 * const verdict = await registry.runEdge('deploy-staging->deploy', { task, logger, now: clock.now, readOnly: false });
 * if (verdict.status !== 'pass') console.log(verdict.findingsText);
 * ```
 */
export function createGateRegistry(options: GateRegistryOptions = {}): GateRegistry {
  const clock: Clock = options.clock ?? { now: () => Date.now() };
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_GATE_TIMEOUT_MS;
  const hostRepo =
    options.hostRepo === undefined || options.hostRepo.trim() === '' ? undefined : normaliseRepo(options.hostRepo);
  const spec = options.stages ?? DEFAULT_STAGES;
  const known = new Map(spec.edges.map((e) => [edgeId(e.from, e.to), e]));
  const edges = new Map<string, Entry[]>();
  let seq = 0;

  const ordered = (edge: string): Entry[] =>
    [...(edges.get(edge) ?? [])].sort((a, b) => a.order - b.order || a.seq - b.seq);

  const inScope = (entry: Entry, repo: string): boolean => {
    const wanted = normaliseRepo(repo);
    if (entry.scope.length === 0) return hostRepo === undefined || hostRepo === wanted;
    return entry.scope.some((r) => normaliseRepo(r) === wanted);
  };
  const scopeText = (entry: Entry): string =>
    entry.scope.length === 0 ? (hostRepo ?? 'every repository') : entry.scope.join(', ');

  const runOne = async (entry: Entry, edge: string, ctx: EdgeRunContext): Promise<GateVerdict> => {
    const { gate } = entry;
    const started = clock.now();
    const timeoutMs = entry.timeoutMs ?? gate.timeoutMs ?? defaultTimeoutMs;
    const controller = new AbortController();
    const onParentAbort = (): void => controller.abort(ctx.signal?.reason);
    ctx.signal?.addEventListener('abort', onParentAbort, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gateCtx: GateContext = { ...ctx, edge, signal: controller.signal };

    const settled = await new Promise<Settled>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
      // `Promise.resolve().then` turns a synchronous throw into a rejection
      Promise.resolve()
        .then(() => gate.run(gateCtx))
        .then(
          (value) => resolve({ kind: 'outcome', value }),
          (error: unknown) => resolve({ kind: 'threw', error }),
        );
    });
    clearTimeout(timer);
    ctx.signal?.removeEventListener('abort', onParentAbort);
    if (settled.kind === 'timeout') controller.abort(new Error(`gate ${gate.id} timed out after ${timeoutMs} ms`));
    const durationMs = Math.max(0, clock.now() - started);

    const errorVerdict = (summary: string): GateVerdict => ({
      gateId: gate.id,
      status: 'error',
      summary,
      findings: [],
      warnings: [],
      durationMs,
    });
    if (settled.kind === 'timeout') return errorVerdict(`gate ${gate.id} timed out after ${timeoutMs} ms`);
    if (settled.kind === 'threw') return errorVerdict(`gate ${gate.id} threw: ${describeError(settled.error)}`);
    const why = malformation(settled.value);
    if (why !== undefined) return errorVerdict(`gate ${gate.id} returned a malformed verdict: ${why}`);
    const outcome = settled.value as GateOutcome;
    return {
      gateId: gate.id,
      status: outcome.status,
      summary: outcome.summary,
      findings: [...(outcome.findings ?? [])] as Finding[],
      warnings: [...(outcome.warnings ?? [])],
      durationMs,
      ...(outcome.deferMs === undefined ? {} : { deferMs: outcome.deferMs }),
      ...(outcome.reportPath === undefined ? {} : { reportPath: outcome.reportPath }),
    };
  };

  const isEnabled = (entry: Entry): boolean | string => {
    if (typeof entry.enabled === 'boolean') return entry.enabled;
    try {
      return entry.enabled() === true;
    } catch (thrown) {
      return `the kill-switch of gate ${entry.gate.id} threw: ${describeError(thrown)}`;
    }
  };

  return {
    register(edge, gate, registration = {}) {
      const problems: string[] = [];
      if (typeof edge !== 'string' || edge.trim() === '') problems.push('the edge is empty');
      if (!isRecord(gate) || typeof gate.id !== 'string' || gate.id.trim() === '') problems.push('the gate has no id');
      else if (typeof gate.run !== 'function') problems.push(`gate ${gate.id} has no run function`);
      if (registration.order !== undefined && !Number.isFinite(registration.order))
        problems.push('order is not a finite number');
      for (const [name, value] of [
        ['timeoutMs', registration.timeoutMs],
        ['gate.timeoutMs', isRecord(gate) ? gate.timeoutMs : undefined],
      ] as const) {
        if (value !== undefined && (!Number.isFinite(value) || value <= 0))
          problems.push(`${name} must be a number > 0 (got ${value})`);
      }
      const list = edges.get(edge) ?? [];
      if (isRecord(gate) && list.some((e) => e.gate.id === gate.id)) {
        problems.push(`gate ${gate.id} is already registered on ${edge}`);
      }
      const config: string[] = [];
      if (typeof edge === 'string' && edge.trim() !== '' && !known.has(edge)) {
        config.push(`the stages have no edge "${edge}" (edges: ${[...known.keys()].join(', ')})`);
      }
      const scope = registration.scope ?? [];
      if (
        hostRepo !== undefined &&
        scope.length > 0 &&
        !scope.some((r) => normaliseRepo(r) === hostRepo) &&
        options.allowForeignScope !== true
      ) {
        config.push(
          `the scope (${scope.join(', ')}) does not contain the host's repository ${hostRepo}: the gate would never run for it; fix the scope or pass allowForeignScope`,
        );
      }
      if (problems.length === 0 && config.length > 0) {
        const id = isRecord(gate) ? String(gate.id) : '?';
        return err(
          new ConveyorError(PKG, 'invalid_config', `cannot register gate ${id} on ${edge}: ${config.join('; ')}`, {
            details: { edge, problems: config },
          }),
        );
      }
      if (problems.length > 0) {
        return err(
          new ConveyorError(PKG, 'invalid_input', `cannot register gate on ${edge}: ${problems.join('; ')}`, {
            details: { edge, problems },
          }),
        );
      }
      list.push({
        gate,
        order: registration.order ?? 0,
        seq: seq++,
        enabled: registration.enabled ?? true,
        scope: Object.freeze([...(registration.scope ?? [])]),
        timeoutMs: registration.timeoutMs,
      });
      edges.set(edge, list);
      return ok();
    },

    async runEdge(edge, ctx) {
      const started = clock.now();
      const verdicts: GateVerdict[] = [];
      const skipped: SkippedGate[] = [];
      let stopper: GateVerdict | undefined;
      const stop = (gateId: string, summary: string): GateVerdict => ({
        gateId,
        status: 'error',
        summary,
        findings: [],
        warnings: [],
        durationMs: 0,
      });
      try {
        if (!known.has(edge)) stopper = stop('registry', `the stages have no edge "${edge}"`);
        for (const entry of stopper === undefined ? ordered(edge) : []) {
          const enabled = isEnabled(entry);
          let verdict: GateVerdict;
          if (typeof enabled === 'string') {
            verdict = stop(entry.gate.id, enabled);
          } else if (!enabled) {
            skipped.push({ gateId: entry.gate.id, reason: 'switched off' });
            continue;
          } else if (!inScope(entry, ctx.task.repo)) {
            skipped.push({
              gateId: entry.gate.id,
              reason: `${ctx.task.repo} is not in its scope: ${scopeText(entry)}`,
            });
            continue;
          } else if (ctx.signal?.aborted === true) {
            verdict = stop(entry.gate.id, `the run was aborted before gate ${entry.gate.id} started`);
          } else {
            verdict = await runOne(entry, edge, ctx);
          }
          verdicts.push(verdict);
          options.events?.emit('verdict', { taskId: ctx.task.id, edge, verdict });
          if (ctx.onVerdict !== undefined && !(await ctx.onVerdict(verdict))) {
            stopper = stop(entry.gate.id, `the verdict of gate ${entry.gate.id} could not be recorded`);
            break;
          }
          if (verdict.status !== 'pass') {
            stopper = verdict;
            break;
          }
        }
        if (stopper === undefined && verdicts.length === 0 && known.get(edge)?.guarded === true) {
          const why = skipped.map((g) => `${g.gateId}: ${g.reason}`).join('; ');
          stopper = stop(
            'registry',
            `${edge} is guarded and no gate is enabled and in scope for ${ctx.task.repo}${why === '' ? ' (none registered)' : ` (${why})`}`,
          );
        }
      } catch (thrown) {
        // only reachable through a bug or a hostile ctx; still fail closed
        stopper = stop('registry', `the gate registry failed: ${describeError(thrown)}`);
        verdicts.push(stopper);
      }
      const durationMs = Math.max(0, clock.now() - started);
      const skippedText =
        skipped.length === 0 ? '' : `; skipped: ${skipped.map((g) => `${g.gateId} (${g.reason})`).join('; ')}`;
      if (stopper === undefined) {
        return {
          edge,
          status: 'pass',
          verdicts,
          ...(skipped.length === 0 ? {} : { skipped }),
          summary:
            verdicts.length === 0
              ? `no gates ran on ${edge}${skippedText}`
              : `${verdicts.length} of ${verdicts.length} gates passed on ${edge}${skippedText}`,
          findingsText: '',
          durationMs,
        };
      }
      const status: VerdictStatus = stopper.status === 'pass' ? 'error' : stopper.status;
      return {
        edge,
        status,
        verdicts,
        ...(skipped.length === 0 ? {} : { skipped }),
        decidedBy: stopper.gateId,
        summary: `${stopper.gateId}: ${stopper.summary}${skippedText}`,
        findingsText: findingsText(stopper.gateId, stopper.summary, stopper.findings),
        durationMs,
        ...(status === 'defer' && stopper.deferMs !== undefined ? { deferMs: stopper.deferMs } : {}),
      };
    },

    snapshot() {
      const out: Record<string, readonly string[]> = {};
      for (const edge of [...edges.keys()].sort()) out[edge] = Object.freeze(ordered(edge).map((e) => e.gate.id));
      return Object.freeze(out);
    },
  };
}
