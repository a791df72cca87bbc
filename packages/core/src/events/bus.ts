import { EventEmitter } from 'eventemitter3';
import type { EdgeVerdict, GateVerdict } from '../gates/types.js';
import type { JobStatus, TaskStatus } from '../ports/domain.js';

/** Where a task stood: a stage and the status inside it. */
export interface StagePosition {
  readonly stage: string;
  readonly status: TaskStatus;
}

/**
 * Every observability event Conveyor emits, by name. Payloads never contain a
 * secret (verdict summaries and findings are already redacted by the gates).
 */
export interface ConveyorEventMap {
  /** a task's snapshot changed */
  transition: {
    readonly taskId: string;
    readonly from: StagePosition;
    readonly to: StagePosition;
    /** the event type that caused it (`job.finished`, `gates.decided`, …) */
    readonly cause: string;
  };
  /** one gate decided */
  verdict: { readonly taskId?: string; readonly edge: string; readonly verdict: GateVerdict };
  /** all gates of an edge decided (folded) */
  'edge.decided': { readonly taskId: string; readonly verdict: EdgeVerdict };
  /** a daemon finished one tick; `summary` counts what it did (claimed, reaped, …) */
  'daemon.tick': {
    readonly daemon: string;
    /** epoch ms */
    readonly at: number;
    readonly summary: Readonly<Record<string, number>>;
  };
  'job.started': { readonly jobId: string; readonly taskId: string; readonly pid: number };
  'job.finished': {
    readonly jobId: string;
    readonly taskId: string;
    readonly status: JobStatus;
    readonly exitCode: number | null;
  };
}

/** The name of a Conveyor event. */
export type ConveyorEventName = keyof ConveyorEventMap;

/** A listener of the event `K`. It may be async; its rejection is contained like a throw. */
export type ConveyorListener<K extends ConveyorEventName> = (payload: ConveyorEventMap[K]) => void | Promise<void>;

/** Called when a listener throws or rejects. */
export type ListenerErrorHandler = (error: unknown, event: ConveyorEventName) => void;

/**
 * A typed event bus: `on('verdict', fn)` gives `fn` the `verdict` payload type.
 *
 * Listener failures never reach the emitter's caller: each listener runs in
 * its own `try`/`catch` (and a returned promise gets a `catch`), the failure
 * goes to `onListenerError`, and the remaining listeners still run.
 */
export interface ConveyorEventBus {
  /** Adds a listener; returns a function that removes it. */
  on<K extends ConveyorEventName>(name: K, fn: ConveyorListener<K>): () => void;
  /** Adds a listener for the next event of this name only; returns a function that removes it. */
  once<K extends ConveyorEventName>(name: K, fn: ConveyorListener<K>): () => void;
  /** Removes a listener added with `on` or `once`. */
  off<K extends ConveyorEventName>(name: K, fn: ConveyorListener<K>): void;
  /** Calls every listener of `name`; never throws. Returns whether there was any listener. */
  emit<K extends ConveyorEventName>(name: K, payload: ConveyorEventMap[K]): boolean;
  listenerCount(name: ConveyorEventName): number;
  removeAllListeners(name?: ConveyorEventName): void;
}

/** Options of {@link createEventBus}. */
export interface EventBusOptions {
  /** where listener failures go (default: dropped); a throw here is dropped too */
  readonly onListenerError?: ListenerErrorHandler;
}

type Wrapped = (payload: unknown) => void;

/**
 * Creates a typed event bus on eventemitter3.
 *
 * @example
 * ```ts
 * const events = createEventBus({ onListenerError: (e, name) => logger.warn('listener failed', { name, error: String(e) }) });
 * events.on('transition', ({ taskId, from, to }) => logger.info('moved', { taskId, from: from.stage, to: to.stage }));
 * events.emit('daemon.tick', { daemon: 'worker', at: clock.now(), summary: { claimed: 2 } });
 * ```
 */
export function createEventBus(options: EventBusOptions = {}): ConveyorEventBus {
  const emitter = new EventEmitter();
  // The wrapper of each (name, listener) pair, so `off` can find it.
  const wrappers = new Map<ConveyorEventName, Map<unknown, Wrapped[]>>();

  const report = (error: unknown, name: ConveyorEventName): void => {
    try {
      options.onListenerError?.(error, name);
    } catch {
      // the error handler itself failed: nothing sensible is left to do
    }
  };

  const remember = (name: ConveyorEventName, fn: unknown, wrapped: Wrapped): void => {
    let byFn = wrappers.get(name);
    if (byFn === undefined) {
      byFn = new Map();
      wrappers.set(name, byFn);
    }
    byFn.set(fn, [...(byFn.get(fn) ?? []), wrapped]);
  };

  const forget = (name: ConveyorEventName, fn: unknown, wrapped: Wrapped): void => {
    const byFn = wrappers.get(name);
    const list = byFn?.get(fn)?.filter((w) => w !== wrapped) ?? [];
    if (list.length > 0) byFn?.set(fn, list);
    else byFn?.delete(fn);
  };

  const add = <K extends ConveyorEventName>(name: K, fn: ConveyorListener<K>, once: boolean): (() => void) => {
    const wrapped: Wrapped = (payload) => {
      if (once) {
        emitter.off(name, wrapped);
        forget(name, fn, wrapped);
      }
      try {
        const out = fn(payload as ConveyorEventMap[K]);
        if (out !== undefined && typeof (out as Promise<void>).then === 'function') {
          (out as Promise<void>).then(undefined, (error: unknown) => report(error, name));
        }
      } catch (error) {
        report(error, name);
      }
    };
    emitter.on(name, wrapped);
    remember(name, fn, wrapped);
    return () => {
      emitter.off(name, wrapped);
      forget(name, fn, wrapped);
    };
  };

  return {
    on: (name, fn) => add(name, fn, false),
    once: (name, fn) => add(name, fn, true),
    off(name, fn) {
      const list = wrappers.get(name)?.get(fn) ?? [];
      for (const wrapped of list) emitter.off(name, wrapped);
      wrappers.get(name)?.delete(fn);
    },
    emit(name, payload) {
      try {
        return emitter.emit(name, payload);
      } catch (error) {
        // unreachable with wrapped listeners; kept so emit can never throw
        report(error, name);
        return true;
      }
    },
    listenerCount: (name) => emitter.listenerCount(name),
    removeAllListeners(name) {
      if (name === undefined) {
        emitter.removeAllListeners();
        wrappers.clear();
      } else {
        emitter.removeAllListeners(name);
        wrappers.delete(name);
      }
    },
  };
}
