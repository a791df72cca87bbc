import { describe, expect, it } from 'vitest';
import { type ConveyorEventMap, createEventBus } from '../src/index.js';

const tick: ConveyorEventMap['daemon.tick'] = { daemon: 'worker', at: 5, summary: { claimed: 2 } };

describe('createEventBus', () => {
  it('delivers typed payloads to every listener of the name only', () => {
    const bus = createEventBus();
    const ticks: string[] = [];
    const transitions: string[] = [];
    bus.on('daemon.tick', (e) => {
      ticks.push(`${e.daemon}@${e.at}:${e.summary.claimed}`);
    });
    bus.on('transition', (e) => {
      transitions.push(`${e.from.stage}->${e.to.stage}`);
    });
    expect(bus.emit('daemon.tick', tick)).toBe(true);
    bus.emit('transition', {
      taskId: 't',
      from: { stage: 'development', status: 'gating' },
      to: { stage: 'deploy-staging', status: 'active' },
      cause: 'gates.decided',
    });
    expect(ticks).toEqual(['worker@5:2']);
    expect(transitions).toEqual(['development->deploy-staging']);
    expect(bus.emit('job.started', { jobId: 'j', taskId: 't', pid: 1 })).toBe(false);
  });

  it('a throwing or rejecting listener never reaches the caller and the others still run', async () => {
    const failures: [string, string][] = [];
    const bus = createEventBus({
      onListenerError: (error, name) => failures.push([name, (error as Error).message]),
    });
    const got: number[] = [];
    bus.on('daemon.tick', () => {
      throw new Error('sync boom');
    });
    bus.on('daemon.tick', async () => {
      throw new Error('async boom');
    });
    bus.on('daemon.tick', (e) => {
      got.push(e.at);
    });
    expect(() => bus.emit('daemon.tick', tick)).not.toThrow();
    expect(got).toEqual([5]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(failures).toEqual([
      ['daemon.tick', 'sync boom'],
      ['daemon.tick', 'async boom'],
    ]);
  });

  it('a throwing error handler is contained too', () => {
    const bus = createEventBus({
      onListenerError: () => {
        throw new Error('handler broken');
      },
    });
    bus.on('daemon.tick', () => {
      throw new Error('x');
    });
    expect(bus.emit('daemon.tick', tick)).toBe(true);
  });

  it('off, the unsubscribe function, once and removeAllListeners', () => {
    const bus = createEventBus();
    const calls: string[] = [];
    const a = (): void => {
      calls.push('a');
    };
    bus.on('daemon.tick', a);
    const stopB = bus.on('daemon.tick', () => {
      calls.push('b');
    });
    bus.once('daemon.tick', () => {
      calls.push('once');
    });
    expect(bus.listenerCount('daemon.tick')).toBe(3);
    bus.emit('daemon.tick', tick);
    expect(calls).toEqual(['a', 'b', 'once']);
    expect(bus.listenerCount('daemon.tick')).toBe(2);
    bus.off('daemon.tick', a);
    stopB();
    bus.emit('daemon.tick', tick);
    expect(calls).toEqual(['a', 'b', 'once']);
    expect(bus.listenerCount('daemon.tick')).toBe(0);
    bus.on('verdict', () => {});
    bus.on('job.finished', () => {});
    bus.removeAllListeners('verdict');
    expect(bus.listenerCount('verdict')).toBe(0);
    expect(bus.listenerCount('job.finished')).toBe(1);
    bus.removeAllListeners();
    expect(bus.listenerCount('job.finished')).toBe(0);
  });
});
