import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '@conveyor/core';
import { newJob, newTask, value } from '@conveyor/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../src/index.js';
import { createTestDatabase, serverUrl, type TestDatabase } from './support/database.js';

/**
 * A failover that leaves the old connections half-open: the old primary
 * vanished without a reset, so a connection's socket stays "up" and nothing
 * ever comes back on it. Played by a TCP proxy in front of the server that,
 * on `blackhole()`, stops forwarding on every connection it has (silently),
 * while new connections go through (the new primary). The LISTEN connection
 * sends nothing on its own, so only its heartbeat can notice.
 */
const server = serverUrl();
const db: TestDatabase | undefined = server === undefined ? undefined : await createTestDatabase(server);

afterAll(async () => {
  await db?.drop();
});

interface Proxy {
  readonly port: number;
  /** every connection open now stops forwarding, without closing */
  blackhole(): void;
  close(): Promise<void>;
}

async function startProxy(target: URL): Promise<Proxy> {
  const pairs: { client: Socket; upstream: Socket }[] = [];
  const sockets = new Set<Socket>();
  const proxy: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    client.pipe(upstream);
    upstream.pipe(client);
    const swallow = (): void => {};
    client.on('error', swallow);
    upstream.on('error', swallow);
    pairs.push({ client, upstream });
    sockets.add(client);
    sockets.add(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    blackhole() {
      for (const { client, upstream } of pairs.splice(0)) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        // read and drop: the kernel keeps acknowledging, the application never answers
        client.on('data', () => {});
        upstream.on('data', () => {});
      }
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

describe.skipIf(db === undefined)('postgres store: a half-open LISTEN connection', () => {
  it('refuses a negative heartbeat, naming the option', async () => {
    const bad = await createPostgresStore({ connectionString: db?.url ?? '', listenHeartbeatMs: -1 });
    expect(!bad.ok && bad.error.message).toMatch(/listenHeartbeatMs/);
  });

  it('is noticed by its heartbeat and replaced; wake-ups resume', async () => {
    const direct = new URL(db?.url ?? '');
    const proxy = await startProxy(direct);
    const viaProxy = new URL(direct.toString());
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const listening = await createPostgresStore({
      connectionString: viaProxy.toString(),
      schema: 'heartbeat',
      listenHeartbeatMs: 200,
      logger: silentLogger,
    });
    if (!listening.ok) throw listening.error;
    const enqueuer = await createPostgresStore({ connectionString: direct.toString(), schema: 'heartbeat' });
    if (!enqueuer.ok) throw enqueuer.error;
    try {
      const heard: (number | undefined)[] = [];
      const stop = listening.value.onJobAvailable((e) => heard.push(e.availableAt));
      const task = value(await enqueuer.value.createTaskIfAbsent(newTask())).task;
      // the listener is up when an enqueue is heard
      for (let i = 0; heard.length === 0; i += 1) {
        value(await enqueuer.value.enqueueJob(newJob(task.id, { stepKey: `warm-${i}`, availableAt: 1 })));
        await sleep(50);
      }
      proxy.blackhole();
      heard.length = 0;
      // after the heartbeat fails: a reconnect (one wake-up without availableAt), then enqueues are heard again
      for (let i = 0; !heard.includes(4_242); i += 1) {
        if (i > 300) throw new Error(`never heard an enqueue after the blackhole; heard ${JSON.stringify(heard)}`);
        value(await enqueuer.value.enqueueJob(newJob(task.id, { stepKey: `after-${i}`, availableAt: 4_242 })));
        await sleep(50);
      }
      expect(heard).toContain(undefined);
      stop();
    } finally {
      await listening.value.close();
      await enqueuer.value.close();
      await proxy.close();
    }
  }, 60_000);
});
