import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createProcessLauncher, createProcessProbe, logFileFor, readExitRecord } from '../src/launcher/index.js';
import { tempDirs } from './helpers/tmp.js';

const dirs = tempDirs('launcher');
afterAll(() => dirs.cleanup());

const node = process.execPath;

describe('process launcher', () => {
  it('exit 0: output in the per-job log file, exit record written, pid known at once', async () => {
    const logDir = dirs.make();
    const launcher = createProcessLauncher({ logDir });
    const started = await launcher.launch({
      jobId: 'job-ok',
      command: node,
      args: ['-e', 'console.log("out " + process.env.JOB_WORD); console.error("err line")'],
      env: { JOB_WORD: 'hello' },
    });
    if (!started.ok) throw started.error;
    expect(started.value.pid).toBeGreaterThan(0);
    const exit = await started.value.exited;
    expect(exit).toEqual({ exitCode: 0, signal: null, timedOut: false });
    const log = fs.readFileSync(logFileFor(logDir, 'job-ok'), 'utf8');
    expect(log).toContain('out hello');
    expect(log).toContain('err line');
    expect(readExitRecord(logFileFor(logDir, 'job-ok'))?.exitCode).toBe(0);
  });

  it('exit 1 is reported as exit code 1', async () => {
    const logDir = dirs.make();
    const started = await createProcessLauncher({ logDir }).launch({
      jobId: 'job-fail',
      command: node,
      args: ['-e', 'process.exit(1)'],
    });
    if (!started.ok) throw started.error;
    expect(await started.value.exited).toEqual({ exitCode: 1, signal: null, timedOut: false });
    expect(readExitRecord(logFileFor(logDir, 'job-fail'))).toMatchObject({ exitCode: 1, timedOut: false });
  });

  it('a hanging process is killed on timeout (SIGTERM, then SIGKILL when it ignores SIGTERM)', async () => {
    const logDir = dirs.make();
    const started = await createProcessLauncher({ logDir, killGraceMs: 200 }).launch({
      jobId: 'job-hang',
      command: node,
      args: ['-e', 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)'],
      timeoutMs: 300,
    });
    if (!started.ok) throw started.error;
    const exit = await started.value.exited;
    expect(exit.timedOut).toBe(true);
    expect(exit.exitCode).toBeNull();
    // SIGKILL when the handler was installed in time; SIGTERM when the machine was slower than the timeout
    expect(['SIGKILL', 'SIGTERM']).toContain(exit.signal);
    const alive = await createProcessProbe().isAlive(started.value.pid);
    expect(alive.ok && alive.value).toBe(false);
  });

  it('kill -9 from outside is reported as signal SIGKILL', async () => {
    const started = await createProcessLauncher().launch({
      jobId: 'job-killed',
      command: node,
      args: ['-e', 'setInterval(() => {}, 1000)'],
    });
    if (!started.ok) throw started.error;
    process.kill(started.value.pid, 'SIGKILL');
    expect(await started.value.exited).toEqual({ exitCode: null, signal: 'SIGKILL', timedOut: false });
  });

  it('kill() stops a running process', async () => {
    const started = await createProcessLauncher().launch({
      jobId: 'job-stop',
      command: node,
      args: ['-e', 'setInterval(() => {}, 1000)'],
    });
    if (!started.ok) throw started.error;
    started.value.kill();
    expect(await started.value.exited).toMatchObject({ exitCode: null, signal: 'SIGTERM' });
  });

  it('a missing executable is an error result, not a throw', async () => {
    const dir = dirs.make();
    const started = await createProcessLauncher().launch({
      jobId: 'job-missing',
      command: path.join(dir, 'no-such-binary'),
      args: [],
    });
    expect(!started.ok && started.error.code).toBe('process_failed');
  });
});

describe('process probe', () => {
  it('says alive for this process and dead for an ended child, and refuses bad pids', async () => {
    const probe = createProcessProbe();
    const self = await probe.isAlive(process.pid);
    expect(self.ok && self.value).toBe(true);
    const started = await createProcessLauncher().launch({ jobId: 'p', command: node, args: ['-e', ''] });
    if (!started.ok) throw started.error;
    await started.value.exited;
    const dead = await probe.isAlive(started.value.pid);
    expect(dead.ok && dead.value).toBe(false);
    const bad = await probe.isAlive(-1);
    expect(!bad.ok && bad.error.code).toBe('invalid_input');
  });
});
