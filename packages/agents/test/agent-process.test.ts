import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCommandRunner, createRedactor, parseClaudeLine, startAgentProcess } from '../src/index.js';
import { readTranscript } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'conveyor-agent-process-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const env = { PATH: process.env.PATH ?? '' };
// A killed process may linger as a zombie when the container's init does not reap it: that counts as gone.
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

function started(spec: Parameters<typeof startAgentProcess>[0]) {
  const proc = startAgentProcess(spec);
  if (!('pid' in proc)) throw new Error(proc.message);
  return proc;
}

describe('startAgentProcess', () => {
  it('logs and skips a malformed stream line and keeps parsing', async () => {
    const lines = [
      '{"type":"system","subtype":"init","session_id":"s1","model":"m"}',
      'this is not json {',
      '{"type":"assistant","message":{"id":"m1","content":[{"type":"text","text":"hello"}],"usage":{"input_tokens":5,"output_tokens":2}}}',
      '[1,2,3]',
      '{"type":"result","subtype":"success","is_error":false,"result":"hello","total_cost_usd":0.25,"usage":{"input_tokens":5,"output_tokens":2}}',
    ];
    const proc = started({
      command: 'node',
      args: ['-e', `for (const l of ${JSON.stringify(lines)}) console.log(l)`],
      cwd: dir,
      env,
      parseLine: parseClaudeLine,
      transcriptFile: join(dir, 't.jsonl'),
      redact: createRedactor(),
    });
    const outcome = await proc.done;
    expect(outcome.status).toBe('succeeded');
    expect(outcome.malformedLines).toBe(2);
    expect(outcome.summary).toBe('hello');
    expect(outcome.costUsd).toBe(0.25);
    expect(outcome.usage).toEqual({ inputTokens: 5, outputTokens: 2, cachedInputTokens: 0 });
    const malformed = readTranscript(join(dir, 't.jsonl')).filter((r) => r.type === 'malformed');
    expect(malformed.map((r) => r.line)).toEqual(['this is not json {', '[1,2,3]']);
  });

  it('kills the whole process group on timeout (grandchildren too)', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const proc = started({
      command: 'sh',
      args: ['-c', `sleep 60 & echo $! > ${pidFile}; echo started; wait`],
      cwd: dir,
      env,
      transcriptFile: join(dir, 't.jsonl'),
      redact: createRedactor(),
      budget: { timeoutMs: 700 },
      killGraceMs: 500,
    });
    const outcome = await proc.done;
    expect(outcome.status).toBe('killed');
    expect(outcome.reason).toBe('timed out after 700 ms');
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(grandchild)).toBe(false);
    expect(alive(proc.pid)).toBe(false);
  });

  it('stops on an AbortSignal, and on stop()', async () => {
    const controller = new AbortController();
    const proc = started({
      command: 'sleep',
      args: ['60'],
      cwd: dir,
      env,
      transcriptFile: join(dir, 't.jsonl'),
      redact: createRedactor(),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 100);
    expect((await proc.done).status).toBe('killed');
    const second = started({
      command: 'sleep',
      args: ['60'],
      cwd: dir,
      env,
      transcriptFile: join(dir, 'u.jsonl'),
      redact: createRedactor(),
    });
    second.stop('the host is stopping');
    const outcome = await second.done;
    expect(outcome).toMatchObject({ status: 'killed', reason: 'the host is stopping' });
  });

  it('gives the agent none of the host environment', async () => {
    process.env.CONVEYOR_TEST_HOST_SECRET = 'host-secret-value-123456';
    try {
      const runner = createCommandRunner({
        command: 'sh',
        args: ['-c', 'echo "secret=[$CONVEYOR_TEST_HOST_SECRET]"; cat'],
      });
      const proc = runner.start({
        jobId: 'j1',
        prompt: 'the prompt text',
        cwd: dir,
        transcriptFile: join(dir, 't.jsonl'),
        stateDir: join(dir, 'state'),
        redact: createRedactor(),
      });
      if (!('pid' in proc)) throw new Error(proc.message);
      const outcome = await proc.done;
      expect(outcome.status).toBe('succeeded');
      expect(outcome.summary).toBe('the prompt text');
      const transcript = readFileSync(join(dir, 't.jsonl'), 'utf8');
      expect(transcript).toContain('secret=[]');
    } finally {
      delete process.env.CONVEYOR_TEST_HOST_SECRET;
    }
  });

  it('redacts known values and token shapes from the transcript, and maps a non-zero exit', async () => {
    const token = ['glpat', '-', 'AbCdEfGhIjKlMnOpQrStUv'].join('');
    const proc = started({
      command: 'sh',
      args: ['-c', `echo "pushing with hunter2-the-password and ${token}"; echo "oops" >&2; exit 4`],
      cwd: dir,
      env,
      transcriptFile: join(dir, 't.jsonl'),
      redact: createRedactor({ values: ['hunter2-the-password'] }),
    });
    const outcome = await proc.done;
    expect(outcome).toMatchObject({ status: 'failed', reason: 'exit code 4', exitCode: 4 });
    const transcript = readFileSync(join(dir, 't.jsonl'), 'utf8');
    expect(transcript).not.toContain('hunter2-the-password');
    expect(transcript).not.toContain(token);
    expect(transcript).toContain('"stream":"stderr","text":"oops"');
  });
});
