import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { openObjectReader, readObjects } from '../src/security/git-objects.js';
import { TempRepo } from './fixtures/security/git-repo.js';

// One `git cat-file --batch` serves a whole history scan: every read writes
// its ids to the same git and is answered while git prints. Objects come cut
// anywhere by the pipe (a blob of megabytes, thousands of small ones, a
// header split across chunks); each read must get exactly its own objects, as
// bytes, whatever the reads around it; and a git that dies or is stopped must
// end every read with an error, never leave one waiting.

const repos: TempRepo[] = [];
afterAll(() => {
  for (const r of repos) r.cleanup();
});

function repoWithObjects(): { repo: TempRepo; small: string[]; big: string; binary: string } {
  const repo = new TempRepo('conveyor-reader-');
  repos.push(repo);
  const hash = (content: string | Buffer) =>
    execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: repo.dir, input: content }).toString().trim();
  const small = Array.from({ length: 3000 }, (_, i) => hash(`object ${i}\n${'x'.repeat(i % 97)}\n`));
  const big = hash(`${'0123456789abcdef'.repeat(250_000)}\nend\n`);
  const binary = hash(Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256)));
  return { repo, small, big, binary };
}

const catFile = (dir: string, sha: string) =>
  execFileSync('git', ['cat-file', '-p', sha], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });

describe('the object reader a history scan keeps running', () => {
  const { repo, small, big, binary } = repoWithObjects();

  it('answers each read with exactly its objects, as stored, across many pipe chunks and concurrent reads', async () => {
    const reader = openObjectReader(repo.dir);
    const missing = 'f'.repeat(40);
    // reads in flight together: git answers them in order, each resolves with its own map
    const [a, b, c, d] = await Promise.all([
      reader.read(small.slice(0, 1500)),
      reader.read([big, missing, small[0] as string]),
      reader.read([binary]),
      reader.read(small.slice(1500)),
    ]);
    for (const r of [a, b, c, d]) if (!r.ok) throw r.error;
    if (!a.ok || !b.ok || !c.ok || !d.ok) return;
    expect(a.value.size).toBe(1500);
    expect(d.value.size).toBe(1500);
    expect([...b.value.keys()].sort()).toEqual([big, small[0]].sort());
    expect(b.value.get(big)?.content.equals(catFile(repo.dir, big))).toBe(true);
    expect(c.value.get(binary)?.content.equals(catFile(repo.dir, binary))).toBe(true);
    for (const sha of [...small.slice(0, 3), ...small.slice(2990)]) {
      const got = (small.indexOf(sha) < 1500 ? a.value : d.value).get(sha);
      expect(got?.type).toBe('blob');
      expect(got?.content.equals(catFile(repo.dir, sha)), sha).toBe(true);
    }
    // the same as one batch run per read gives
    const once = await readObjects(repo.dir, small.slice(0, 1500));
    if (!once.ok) throw once.error;
    expect([...a.value].map(([k, v]) => [k, v.content.toString('hex')])).toEqual(
      [...once.value].map(([k, v]) => [k, v.content.toString('hex')]),
    );
    await reader.close();
  });

  it('refuses an id that is not one, and errors every read once closed', async () => {
    const reader = openObjectReader(repo.dir);
    const bad = await reader.read([`${small[0]}\n${small[1]}`]);
    expect(bad.ok).toBe(false);
    expect((await reader.read([small[0] as string])).ok).toBe(true);
    await reader.close();
    const after = await reader.read([small[0] as string]);
    expect(after.ok).toBe(false);
  });

  it('a git killed in the middle, or stopped by the scan, ends the reads in flight with an error', async () => {
    let pid = 0;
    const reader = openObjectReader(repo.dir, { onChild: (p) => (pid = p) });
    const first = await reader.read([small[0] as string]);
    expect(first.ok).toBe(true);
    const inFlight = Promise.all([reader.read([big]), reader.read(small), reader.read([binary])]);
    process.kill(pid, 'SIGKILL');
    const results = await inFlight;
    expect(results.some((r) => !r.ok)).toBe(true);
    // whatever did not finish is an error naming git, and a later read fails at once
    for (const r of results) if (!r.ok) expect(r.error.message).toMatch(/git cat-file/);
    expect((await reader.read([small[1] as string])).ok).toBe(false);
    await reader.close();

    const controller = new AbortController();
    const stopped = openObjectReader(repo.dir, { signal: controller.signal });
    const reads = Promise.all([stopped.read(small), stopped.read([big])]);
    controller.abort();
    const out = await reads;
    expect(out.some((r) => !r.ok && r.error.code === 'timeout')).toBe(true);
    await stopped.close();
    const never = openObjectReader(repo.dir, { signal: controller.signal });
    expect((await never.read([small[0] as string])).ok).toBe(false);
    await never.close();
  });
});
