import { createMemoryStore, type MemoryStoreOptions } from '@conveyor/testkit';
import { createGateRegistry } from '../../src/gates/index.js';
import type { GateContext, GateOutcome } from '../../src/gates/types.js';
import { createPipeline } from '../../src/pipeline/index.js';
import type { PipelineOptions } from '../../src/pipeline/types.js';
import type { DecisionStore } from '../../src/ports/decisions.js';
import type { Notifier, TaskCard } from '../../src/ports/notifier.js';
import type { LogFields, Logger } from '../../src/ports/runtime.js';
import type { Store } from '../../src/ports/store.js';
import type { Page, Tracker, TrackerIssue } from '../../src/ports/tracker.js';
import { ok } from '../../src/result/result.js';
import { DEFAULT_STAGES } from '../../src/stages/index.js';
import { testClock } from './clock.js';

/** A logger that keeps its lines. */
export function memoryLogger(): Logger & { lines: { level: string; message: string; fields?: LogFields }[] } {
  const lines: { level: string; message: string; fields?: LogFields }[] = [];
  const make = (bindings: LogFields): Logger => ({
    debug: (message, fields) => lines.push({ level: 'debug', message, fields: { ...bindings, ...fields } }),
    info: (message, fields) => lines.push({ level: 'info', message, fields: { ...bindings, ...fields } }),
    warn: (message, fields) => lines.push({ level: 'warn', message, fields: { ...bindings, ...fields } }),
    error: (message, fields) => lines.push({ level: 'error', message, fields: { ...bindings, ...fields } }),
    child: (more) => make({ ...bindings, ...more }),
  });
  return Object.assign(make({}), { lines });
}

/** A notifier that keeps every card it was given. */
export function recordingNotifier(): Notifier & { cards: TaskCard[] } {
  const cards: TaskCard[] = [];
  return {
    cards,
    upsertCard: async (card) => {
      cards.push(card);
      return ok();
    },
    removeCard: async () => ok(),
  };
}

/** A tracker over an in-memory list of issues, paginated two per page. */
export function fakeTracker(issues: TrackerIssue[]): Tracker & { states: Map<string, string> } {
  const states = new Map<string, string>();
  return {
    states,
    getIssue: async (id) => {
      const issue = issues.find((i) => i.id === id);
      return issue ? ok(issue) : ok({ id, project: 'web', title: '', description: '', state: 'Todo' });
    },
    listIssuesByState: async (state, page) => {
      const all = issues.filter((i) => i.state === state);
      const start = page?.cursor === undefined ? 0 : Number(page.cursor);
      const items = all.slice(start, start + 2);
      const result: Page<TrackerIssue> = start + 2 < all.length ? { items, nextCursor: String(start + 2) } : { items };
      return ok(result);
    },
    setState: async (id, state) => {
      states.set(id, state);
      return ok();
    },
    comment: async () => ok(),
  };
}

/** An issue in the start state. */
export function issue(id: string, state = 'Todo', extra: Partial<TrackerIssue> = {}): TrackerIssue {
  return { id, project: 'web', key: `WEB-${id}`, title: `Issue ${id}`, description: `Do ${id}`, state, ...extra };
}

/** What a scripted gate decides. */
export type GateScript = (ctx: GateContext) => GateOutcome | Promise<GateOutcome>;

/** Builds a store, a gate registry with one scripted gate per edge, and a pipeline. */
export function harness(
  options: {
    gate?: GateScript;
    store?: Store & DecisionStore;
    storeOptions?: MemoryStoreOptions;
    pipeline?: Partial<PipelineOptions>;
  } = {},
) {
  const clock = testClock();
  const store = options.store ?? createMemoryStore(options.storeOptions ?? {});
  const logger = memoryLogger();
  const notifier = recordingNotifier();
  const gates = createGateRegistry({ clock });
  const gateRuns: { edge: string; readOnly: boolean; taskId: string }[] = [];
  const script: GateScript = options.gate ?? (() => ({ status: 'pass', summary: 'green' }));
  for (const stage of DEFAULT_STAGES.edges) {
    const edge = `${stage.from}->${stage.to}`;
    const registered = gates.register(edge, {
      id: 'scripted',
      run: async (ctx) => {
        gateRuns.push({ edge: ctx.edge, readOnly: ctx.readOnly, taskId: ctx.task.id });
        return script(ctx);
      },
    });
    if (!registered.ok) throw registered.error;
  }
  const pipeline = createPipeline({
    store,
    stages: DEFAULT_STAGES,
    gates,
    clock,
    logger,
    notifier,
    repo: 'acme/web',
    ...options.pipeline,
  });
  return { clock, store, logger, notifier, gates, gateRuns, pipeline };
}

/**
 * Runs the claimable decision jobs as a worker would (in-process, then the
 * terminal flip), again and again while the only claimable jobs are decisions
 * (or, with `claimAgentJobs`, claiming agent jobs too and leaving them running).
 * Returns how many decisions ran.
 */
export async function runDecisions(
  h: {
    store: Store & DecisionStore;
    clock: { now(): number };
    pipeline: ReturnType<typeof createPipeline>;
  },
  options: { readonly claimAgentJobs?: boolean } = {},
): Promise<number> {
  let ran = 0;
  for (;;) {
    const queued = await h.store.listJobs({ statuses: ['queued'] });
    if (!queued.ok) throw queued.error;
    const ready = queued.value.filter((j) => j.availableAt <= h.clock.now());
    if (ready.length === 0) return ran;
    if (options.claimAgentJobs !== true && ready.some((j) => j.kind !== 'decision')) return ran;
    const claimed = await h.store.claimJobs({ maxConcurrency: 100, now: h.clock.now() });
    if (!claimed.ok) throw claimed.error;
    for (const job of claimed.value) {
      // with `claimAgentJobs`, agent jobs are left running: the test does not care for them
      if (job.kind !== 'decision') continue;
      const run = await h.pipeline.runDecision(job);
      if (!run.ok) throw run.error;
      const flip = await h.store.finishJob({ jobId: job.id, status: 'succeeded', exitCode: null, now: h.clock.now() });
      if (!flip.ok) throw flip.error;
      ran += 1;
    }
  }
}
