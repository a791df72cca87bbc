// Agents benchmark: spawn-to-first-event of the real Claude Code and Codex CLIs
// against the fake model servers on 127.0.0.1 (median of a few runs, plus the
// whole one-turn run), and the parse rate of a 100 MB Claude stream-json
// transcript: the parser alone, and the full path (pipe → lines → events →
// redacted JSONL transcript). Prints figures; fails only if a run errors.
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AgentRunner,
  createClaudeCodeRunner,
  createCodexRunner,
  createRedactor,
  parseClaudeLine,
  startAgentProcess,
} from '@conveyor/agents';
import { startFakeAnthropic, startFakeOpenAI } from '@conveyor/testkit';

const RUNS = Number(process.env.AGENTS_BENCH_RUNS ?? 3);
const TRANSCRIPT_MB = Number(process.env.AGENTS_BENCH_MB ?? 100);
const root = fileURLToPath(new URL('..', import.meta.url));
const PATH = `${join(root, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`;
const dir = mkdtempSync(join(tmpdir(), 'conveyor-agents-bench-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function firstEvent(name: string, runner: AgentRunner): Promise<void> {
  const first: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let firstAt: number | undefined;
    const started = performance.now();
    const proc = runner.start({
      jobId: `${name}-${i}`,
      prompt: 'Say hello.',
      cwd: dir,
      transcriptFile: join(dir, `${name}-${i}.jsonl`),
      stateDir: join(dir, 'state', `${name}-${i}`),
      redact: createRedactor(),
      onEvent: () => {
        firstAt ??= performance.now();
      },
    });
    if (!('pid' in proc)) throw new Error(proc.message);
    const outcome = await proc.done;
    if (outcome.status !== 'succeeded') throw new Error(`${name}: ${outcome.status} ${outcome.reason ?? ''}`);
    first.push((firstAt ?? performance.now()) - started);
    total.push(performance.now() - started);
  }
  console.log(
    `${name.padEnd(12)} spawn → first event: median ${median(first).toFixed(0)} ms (${first.map((x) => x.toFixed(0)).join(', ')}); whole one-turn run: median ${median(total).toFixed(0)} ms`,
  );
}

async function parseRate(): Promise<void> {
  const file = join(dir, 'transcript.jsonl');
  const lines = [
    JSON.stringify({
      type: 'system',
      subtype: 'init',
      session_id: 's',
      model: 'claude-sonnet-4-5',
      tools: ['Read', 'Write', 'Bash'],
    }),
    JSON.stringify({
      type: 'assistant',
      message: {
        id: 'msg_1',
        model: 'm',
        content: [{ type: 'text', text: 'I will now look at the code and change it. '.repeat(8) }],
        usage: { input_tokens: 1200, output_tokens: 80 },
      },
    }),
    JSON.stringify({
      type: 'assistant',
      message: {
        id: 'msg_2',
        model: 'm',
        content: [
          {
            type: 'tool_use',
            id: 'toolu_1',
            name: 'Write',
            input: { file_path: '/w/src/a.js', content: 'export const a = 1;\n'.repeat(40) },
          },
        ],
        usage: { input_tokens: 1300, output_tokens: 300 },
      },
    }),
    JSON.stringify({
      type: 'user',
      message: {
        role: 'user',
        content: [{ tool_use_id: 'toolu_1', type: 'tool_result', content: 'ok\n'.repeat(200), is_error: false }],
      },
    }),
  ];
  const block = `${lines.join('\n')}\n`;
  const target = TRANSCRIPT_MB * 1024 * 1024;
  const out = createWriteStream(file);
  let written = 0;
  while (written < target) {
    if (!out.write(block)) await new Promise<void>((r) => out.once('drain', () => r()));
    written += Buffer.byteLength(block);
  }
  out.write(
    `${JSON.stringify({ type: 'result', subtype: 'success', is_error: false, result: 'done', total_cost_usd: 1.5, usage: { input_tokens: 1, output_tokens: 1 } })}\n`,
  );
  await new Promise<void>((r) => out.end(r));
  const mb = statSync(file).size / 1024 / 1024;

  // The parser alone, on lines already split.
  const text = readFileSync(file, 'utf8');
  const t0 = performance.now();
  let events = 0;
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
    events += parseClaudeLine(text.slice(start, nl))?.length ?? 0;
    start = nl + 1;
  }
  const parseMs = performance.now() - t0;
  console.log(
    `parser only      ${mb.toFixed(0)} MB → ${events} events in ${(parseMs / 1000).toFixed(2)} s: ${(mb / (parseMs / 1000)).toFixed(0)} MB/s`,
  );

  // The full path of a run: a child writes the stream; the runner splits, parses, redacts and writes the transcript.
  const t1 = performance.now();
  const proc = startAgentProcess({
    command: 'cat',
    args: [file],
    cwd: dir,
    env: { PATH: process.env.PATH ?? '' },
    parseLine: parseClaudeLine,
    transcriptFile: join(dir, 'full.jsonl'),
    redact: createRedactor({ values: ['sk-ant-api03-some-key-value-0000'] }),
    budget: { timeoutMs: 600_000 },
  });
  if (!('pid' in proc)) throw new Error(proc.message);
  const outcome = await proc.done;
  const fullMs = performance.now() - t1;
  if (outcome.status !== 'succeeded') throw new Error(`full path: ${outcome.status} ${outcome.reason ?? ''}`);
  console.log(
    `full path        ${mb.toFixed(0)} MB → transcript ${(statSync(join(dir, 'full.jsonl')).size / 1024 / 1024).toFixed(0)} MB in ${(fullMs / 1000).toFixed(2)} s: ${(mb / (fullMs / 1000)).toFixed(0)} MB/s (${outcome.turns} turns, ${outcome.malformedLines} malformed)`,
  );
}

try {
  const anthropic = await startFakeAnthropic({ finalText: 'Hello.' });
  const openai = await startFakeOpenAI({ finalText: 'Hello.' });
  try {
    await firstEvent(
      'claude-code',
      createClaudeCodeRunner({
        apiKey: 'sk-ant-bench',
        baseUrl: anthropic.url,
        model: 'claude-sonnet-4-5',
        path: PATH,
      }),
    );
    await firstEvent(
      'codex',
      createCodexRunner({ apiKey: 'sk-bench', baseUrl: `${openai.url}/v1`, model: 'gpt-5-codex', path: PATH }),
    );
  } finally {
    await anthropic.close();
    await openai.close();
  }
  await parseRate();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
