// `npm run dev:issue -- "<title>" [--description "<text>"] [--approve]`:
// creates an issue in the running local stack's Plane (which delivers its
// signed webhook to the host) and, with --approve, approves it once the
// analysis waits for approval.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    description: { type: 'string', default: '' },
    approve: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help || positionals.length === 0) {
  process.stdout.write('usage: npm run dev:issue -- "<title>" [--description "<text>"] [--approve]\n');
  process.exit(values.help ? 0 : 2);
}
const dir = resolve(process.env.CONVEYOR_DEV_DIR ?? '.conveyor-dev');
let dev: { host: string; control: string };
try {
  dev = JSON.parse(readFileSync(join(dir, 'dev.json'), 'utf8')) as { host: string; control: string };
} catch {
  process.stderr.write(`no local stack found in ${dir}: start it with npm run dev\n`);
  process.exit(2);
}
const created = await fetch(`${dev.control}/issues`, {
  method: 'POST',
  body: JSON.stringify({ title: positionals.join(' '), description: values.description }),
});
const { id, error } = (await created.json()) as { id?: string; error?: string };
if (!created.ok || !id) {
  process.stderr.write(`creating the issue failed: ${error ?? created.status}\n`);
  process.exit(1);
}
process.stdout.write(`created issue ${id}\n`);
if (values.approve) {
  for (let i = 0; i < 120; i += 1) {
    const page = (await (await fetch(`${dev.host}/api/tasks?status=awaiting_approval&limit=500`)).json()) as {
      tasks: { issueId: string }[];
    };
    if (page.tasks.some((t) => t.issueId === id || t.issueId.endsWith(id))) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const approved = await fetch(`${dev.control}/issues/${encodeURIComponent(id)}/state`, {
    method: 'POST',
    body: JSON.stringify({ state: 'Approved' }),
  });
  process.stdout.write(
    approved.ok ? `approved ${id}: watch it on ${dev.host}/dashboard\n` : `approving failed (${approved.status})\n`,
  );
}
