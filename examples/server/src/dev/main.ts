// `npm run dev`: the example host with the local stack's fakes — a Plane that
// sends signed webhooks, a Telegram, and a Gitea with a real git transport —
// plus a small control API that `npm run dev:issue` uses to create and approve
// issues. Everything listens on 127.0.0.1; state lives in .conveyor-dev/.

import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { createConsoleLogger } from '@conveyor/core';
import { startLocalStack } from './stack.js';

const dir = resolve(process.env.CONVEYOR_DEV_DIR ?? '.conveyor-dev');
const port = Number(process.env.ORCH_PORT ?? 8787);
mkdirSync(dir, { recursive: true });
const logger = createConsoleLogger({ json: false }).child({ service: 'conveyor-dev' });
const stack = await startLocalStack({ dir: join(dir, `run-${Date.now()}`), port, logger });

const readJson = async (req: import('node:http').IncomingMessage): Promise<Record<string, unknown>> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
};

const control = createServer((req, res) => {
  const reply = (status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
  void (async () => {
    const url = new URL(req.url ?? '/', 'http://control');
    if (req.method === 'POST' && url.pathname === '/issues') {
      const body = await readJson(req);
      if (typeof body.title !== 'string' || body.title.trim() === '') return reply(400, { error: 'title is required' });
      const id = await stack.createIssue(body.title, typeof body.description === 'string' ? body.description : '');
      return reply(201, { id });
    }
    const state = /^\/issues\/([^/]+)\/state$/.exec(url.pathname);
    if (req.method === 'POST' && state) {
      const body = await readJson(req);
      if (typeof body.state !== 'string') return reply(400, { error: 'state is required' });
      await stack.setState(decodeURIComponent(state[1] ?? ''), body.state);
      return reply(200, { ok: true });
    }
    return reply(404, { error: 'POST /issues {title, description} or POST /issues/:id/state {state}' });
  })().catch((error: unknown) => reply(500, { error: String(error) }));
});
await new Promise<void>((done) => control.listen(0, '127.0.0.1', done));
const controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;
writeFileSync(join(dir, 'dev.json'), `${JSON.stringify({ host: stack.host.url(), control: controlUrl }, null, 2)}\n`);

process.stdout.write(`
Conveyor local stack
  host        ${stack.host.url()}
  dashboard   ${stack.host.url()}/dashboard
  Plane       ${stack.plane.url}   (fake; issues arrive by signed webhooks)
  Gitea       ${stack.gitea.url}   (fake API over real bare repositories)
  clone       git clone ${stack.gitea.cloneUrl('acme/web')}

Create and approve an issue:  npm run dev:issue -- "Add a login page" --approve
Stop with Ctrl-C.
`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    control.close();
    void stack.close().then(() => process.exit(0));
  });
}
