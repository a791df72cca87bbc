// The dashboard with 10,000 tasks in a real SQLite file, over real HTTP on
// 127.0.0.1: time per request of /api/tasks (first page, a filter, a search
// that reads every task) and of a task page, beside the floor — the same
// server answering a prebuilt body of the same size — measured interleaved;
// then server-sent-event fan-out to 100 clients.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startDashboardWorld } from '../examples/server/test/dashboard-fixture.js';

const TASKS = 10_000;
const ROUNDS = 200;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    request(url, { agent }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      res.on('end', () =>
        res.statusCode === 200 && bytes > 0
          ? resolve(performance.now() - started)
          : reject(new Error(`${url} → ${res.statusCode}`)),
      );
    })
      .on('error', reject)
      .end();
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

const dir = mkdtempSync(join(tmpdir(), 'conveyor-dash-bench-'));
const seedStart = performance.now();
const world = await startDashboardWorld(join(dir, 'conveyor.db'), TASKS);
console.log(`seeded ${TASKS} tasks in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

// the floor: the same machine answering a body of the same size with nothing to compute
const bodies = new Map<string, Buffer>();
const floor = createServer((req, res) => {
  const body = bodies.get(req.url ?? '') ?? Buffer.from('{}');
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
});
await new Promise<void>((r) => floor.listen(0, '127.0.0.1', r));
const floorUrl = `http://127.0.0.1:${(floor.address() as AddressInfo).port}`;

const routes = {
  'GET /api/tasks (first page of 50)': '/api/tasks',
  'GET /api/tasks?project=shop&status=active': '/api/tasks?project=shop&status=active',
  'GET /api/tasks?q=login (search, reads all)': '/api/tasks?q=login',
  'GET /api/tasks (page 100, by cursor)': '',
  'GET /api/tasks/:id': `/api/tasks/${world.rolledBack.id}`,
  'GET /dashboard/tasks/:id (HTML)': `/dashboard/tasks/${world.rolledBack.id}`,
};
// a deep cursor: the id of the 5,000th task
{
  const res = await fetch(`${world.url}/api/tasks?limit=500`);
  let cursor = ((await res.json()) as { nextCursor: string }).nextCursor;
  for (let i = 0; i < 9; i += 1)
    cursor = (
      (await (await fetch(`${world.url}/api/tasks?limit=500&cursor=${cursor}`)).json()) as { nextCursor: string }
    ).nextCursor;
  routes['GET /api/tasks (page 100, by cursor)'] = `/api/tasks?cursor=${cursor}`;
}
for (const path of Object.values(routes))
  bodies.set(path, Buffer.from(await (await fetch(`${world.url}${path}`)).arrayBuffer()));

console.log(
  `\n${'route'.padEnd(44)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'floor p50'.padStart(10)} ${'floor p95'.padStart(10)}`,
);
for (const [name, path] of Object.entries(routes)) {
  const ours: number[] = [];
  const base: number[] = [];
  const rounds = name.includes('search') ? 40 : ROUNDS;
  for (let i = 0; i < rounds; i += 1) {
    ours.push(await get(`${world.url}${path}`));
    base.push(await get(`${floorUrl}${path}`));
  }
  console.log(
    `${name.padEnd(44)} ${pct(ours, 50).toFixed(2).padStart(8)} ${pct(ours, 95).toFixed(2).padStart(8)} ${pct(base, 50).toFixed(2).padStart(10)} ${pct(base, 95).toFixed(2).padStart(10)}`,
  );
}

// SSE fan-out: 100 clients; time from emit until the last client has the frame
const CLIENTS = 100;
const waiting = new Map<number, () => void>();
const streams = await Promise.all(
  Array.from(
    { length: CLIENTS },
    (_, n) =>
      new Promise<() => void>((resolve) => {
        const req = request(`${world.url}/api/events`, (res) => {
          res.setEncoding('utf8');
          let buffered = '';
          res.on('data', (chunk: string) => {
            buffered += chunk;
            const m = /"cause":"bench-(\d+)"/.exec(buffered);
            if (m) {
              buffered = '';
              waiting.get(n)?.();
            }
          });
          resolve(() => req.destroy());
        });
        req.end();
      }),
  ),
);
await new Promise((r) => setTimeout(r, 200));
const fanout: number[] = [];
for (let round = 0; round < 50; round += 1) {
  const all = Promise.all(Array.from({ length: CLIENTS }, (_, n) => new Promise<void>((r) => waiting.set(n, r))));
  const started = performance.now();
  world.events.emit('transition', {
    taskId: world.rolledBack.id,
    from: { stage: 'development', status: 'active' },
    to: { stage: 'deploy-staging', status: 'active' },
    cause: `bench-${round}`,
  });
  await all;
  fanout.push(performance.now() - started);
}
console.log(
  `\nSSE fan-out to ${CLIENTS} clients (emit → last client has it): p50 ${pct(fanout, 50).toFixed(2)} ms, p95 ${pct(fanout, 95).toFixed(2)} ms`,
);
for (const close of streams) close();
agent.destroy();
floor.close();
await world.close();
rmSync(dir, { recursive: true, force: true });
