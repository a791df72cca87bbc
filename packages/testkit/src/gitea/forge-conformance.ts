import type { Forge } from '@conveyor/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Fault, RecordedRequest } from '../http/fake-server.js';

/**
 * A forge handed to {@link forgeConformance}, with the means to shape the
 * repository it works on. A real forge can implement these with its API and
 * git; the fake Gitea implements them in memory.
 */
export interface ForgeSubject {
  readonly forge: Forge;
  /** the repository the cases use, `owner/name` */
  readonly repo: string;
  /** the branch every new branch starts from (e.g. `main`) */
  readonly baseBranch: string;
  /** creates `name` with `commits` new commits (default 1) on top of `from` (default the base branch); resolves to its head sha */
  createBranch(name: string, options?: { readonly from?: string; readonly commits?: number }): Promise<string> | string;
  /** pushes one new commit onto `branch`; resolves to the new head sha */
  pushCommit(branch: string): Promise<string> | string;
  /** marks a PR (un)mergeable, as a conflict would; cases needing it skip without it */
  setMergeable?(number: number, mergeable: boolean): Promise<void> | void;
  /**
   * The fake server behind the forge, when there is one: the fault cases run
   * only with it. The forge must then be created with at least 2 retries, a
   * per-attempt timeout of at most 1 000 ms and no real backoff sleep.
   */
  readonly fake?: { inject(fault: Fault): void; readonly requests: readonly RecordedRequest[] };
  /** releases what the subject holds (servers, temp dirs) */
  close?(): Promise<void> | void;
}

/** Makes a fresh subject (a fresh repository state) for one case. */
export type ForgeSubjectFactory = () => Promise<ForgeSubject> | ForgeSubject;

/**
 * The conformance suite every `Forge` implementation runs: commit statuses
 * round-trip and combine (the worst state wins, the latest per context
 * counts), pull requests are found, created and merged, a merge against a
 * stale head fails `head_out_of_date` and merges nothing, a second merge is
 * `alreadyMerged`, compare counts both ways, a sha resolves to its branch
 * across pages, malformed input is refused before any request, and — when the
 * subject exposes its fake server — 5xx bursts, 429s and dropped connections
 * are retried while malformed answers and 4xx are reported without a throw.
 *
 * @example
 * ```ts
 * forgeConformance('gitea', async () => {
 *   const gitea = await startFakeGitea({ token: 't' });
 *   const forge = createGiteaForge({ baseUrl: gitea.url, token: 't', retries: 2, timeoutMs: 500, sleep: async () => {} });
 *   return { forge, repo: 'acme/web', baseBranch: 'main', fake: gitea, close: () => gitea.close(),
 *     createBranch: (name, o) => gitea.createBranch('acme/web', name, o), pushCommit: (b) => gitea.commit('acme/web', b) };
 * });
 * ```
 */
export function forgeConformance(name: string, makeSubject: ForgeSubjectFactory): void {
  describe(`Forge conformance: ${name}`, () => {
    let s: ForgeSubject;
    beforeEach(async () => {
      s = await makeSubject();
    });
    afterEach(async () => {
      await s.close?.();
    });

    const openPr = async (branch: string, commits = 1) => {
      const head = await s.createBranch(branch, { commits });
      const pr = await s.forge.createPullRequest(s.repo, { base: s.baseBranch, head: branch, title: `Add ${branch}` });
      if (!pr.ok) throw pr.error;
      return { head, pr: pr.value };
    };

    describe('commit statuses', () => {
      it('a status set on a commit comes back in its combined status', async () => {
        const sha = await s.createBranch('task/status-1');
        const set = await s.forge.setCommitStatus(s.repo, sha, {
          state: 'success',
          context: 'ci/test',
          description: 'all green',
          targetUrl: 'https://ci.example.invalid/1',
        });
        expect(set.ok).toBe(true);
        const combined = await s.forge.getCombinedStatus(s.repo, sha);
        expect(combined.ok && combined.value).toMatchObject({
          sha,
          state: 'success',
          statuses: [
            {
              state: 'success',
              context: 'ci/test',
              description: 'all green',
              targetUrl: 'https://ci.example.invalid/1',
            },
          ],
        });
      });

      it('the worst state wins, the latest status per context counts, and no status is pending', async () => {
        const sha = await s.createBranch('task/status-2');
        const none = await s.forge.getCombinedStatus(s.repo, sha);
        expect(none.ok && none.value).toMatchObject({ state: 'pending', statuses: [] });
        for (const [context, state] of [
          ['ci/lint', 'pending'],
          ['ci/test', 'success'],
          ['ci/lint', 'success'],
        ] as const) {
          expect((await s.forge.setCommitStatus(s.repo, sha, { context, state })).ok).toBe(true);
        }
        const green = await s.forge.getCombinedStatus(s.repo, sha);
        expect(green.ok && green.value.state).toBe('success');
        expect(green.ok && green.value.statuses.map((x) => `${x.context}=${x.state}`).sort()).toEqual([
          'ci/lint=success',
          'ci/test=success',
        ]);
        expect((await s.forge.setCommitStatus(s.repo, sha, { context: 'ci/audit', state: 'failure' })).ok).toBe(true);
        const red = await s.forge.getCombinedStatus(s.repo, sha);
        expect(red.ok && red.value.state).toBe('failure');
        expect((await s.forge.setCommitStatus(s.repo, sha, { context: 'ci/deploy', state: 'error' })).ok).toBe(true);
        const broken = await s.forge.getCombinedStatus(s.repo, sha);
        expect(broken.ok && broken.value.state).toBe('error');
      });
    });

    describe('pull requests', () => {
      it('finds nothing before a PR exists, then finds the one created', async () => {
        await s.createBranch('task/pr-1', { commits: 2 });
        const before = await s.forge.findPullRequest(s.repo, s.baseBranch, 'task/pr-1');
        expect(before.ok && before.value).toBeUndefined();
        const { pr } = await openPr('task/pr-2');
        const head = await s.forge.findPullRequest(s.repo, s.baseBranch, 'task/pr-2');
        expect(head.ok && head.value).toMatchObject({
          number: pr.number,
          state: 'open',
          merged: false,
          base: s.baseBranch,
          head: 'task/pr-2',
          headSha: pr.headSha,
          title: 'Add task/pr-2',
        });
      });

      it('a merge against the head it was asked for lands once; a second merge is alreadyMerged', async () => {
        const { head, pr } = await openPr('task/merge-1', 2);
        expect(pr.headSha).toBe(head);
        expect((await s.forge.isMerged(s.repo, pr.number)).unwrapOr(true)).toBe(false);
        const merged = await s.forge.mergePullRequest(s.repo, pr.number, { headSha: head });
        expect(merged.ok && merged.value.alreadyMerged).toBe(false);
        expect((await s.forge.isMerged(s.repo, pr.number)).unwrapOr(false)).toBe(true);
        const after = await s.forge.findPullRequest(s.repo, s.baseBranch, 'task/merge-1');
        expect(after.ok && after.value).toMatchObject({ number: pr.number, state: 'closed', merged: true });
        const again = await s.forge.mergePullRequest(s.repo, pr.number, { headSha: head });
        expect(again.ok && again.value.alreadyMerged).toBe(true);
        const cmp = await s.forge.compare(s.repo, s.baseBranch, 'task/merge-1');
        expect(cmp.ok && cmp.value.aheadBy).toBe(0);
      });

      it('a merge against a stale head fails head_out_of_date and merges nothing', async () => {
        const { head, pr } = await openPr('task/stale-1');
        const moved = await s.pushCommit('task/stale-1');
        expect(moved).not.toBe(head);
        const merged = await s.forge.mergePullRequest(s.repo, pr.number, { headSha: head });
        expect(merged.ok).toBe(false);
        expect(!merged.ok && merged.error.code).toBe('head_out_of_date');
        expect((await s.forge.isMerged(s.repo, pr.number)).unwrapOr(true)).toBe(false);
        const still = await s.forge.findPullRequest(s.repo, s.baseBranch, 'task/stale-1');
        expect(still.ok && still.value).toMatchObject({ state: 'open', merged: false, headSha: moved });
        const retried = await s.forge.mergePullRequest(s.repo, pr.number, { headSha: moved });
        expect(retried.ok && retried.value.alreadyMerged).toBe(false);
      });

      it('a PR the forge cannot merge fails not_mergeable', async (ctx) => {
        if (!s.setMergeable) {
          ctx.skip(); // the subject cannot make a PR unmergeable
          return;
        }
        const { head, pr } = await openPr('task/conflict-1');
        await s.setMergeable(pr.number, false);
        const merged = await s.forge.mergePullRequest(s.repo, pr.number, { headSha: head });
        expect(!merged.ok && merged.error.code).toBe('not_mergeable');
        expect((await s.forge.isMerged(s.repo, pr.number)).unwrapOr(true)).toBe(false);
      });
    });

    describe('compare and branches', () => {
      it('counts commits ahead and behind and lists the ahead ones oldest first', async () => {
        await s.createBranch('task/cmp-1', { commits: 1 });
        await s.pushCommit('task/cmp-1');
        const head = await s.pushCommit('task/cmp-1');
        const cmp = await s.forge.compare(s.repo, s.baseBranch, 'task/cmp-1');
        expect(cmp.ok && { ahead: cmp.value.aheadBy, behind: cmp.value.behindBy, n: cmp.value.commits.length }).toEqual(
          {
            ahead: 3,
            behind: 0,
            n: 3,
          },
        );
        expect(cmp.ok && cmp.value.commits.at(-1)).toBe(head);
        await s.pushCommit(s.baseBranch);
        const behind = await s.forge.compare(s.repo, s.baseBranch, 'task/cmp-1');
        expect(behind.ok && [behind.value.aheadBy, behind.value.behindBy]).toEqual([3, 1]);
      });

      it('resolves a sha to the branch whose head it is, across pages, and an unknown sha to undefined', async () => {
        let last = '';
        for (let i = 0; i < 55; i += 1) last = await s.createBranch(`task/page-${String(i).padStart(2, '0')}`);
        const found = await s.forge.resolveShaToBranch(s.repo, last);
        expect(found.ok && found.value).toBe('task/page-54');
        const unknown = await s.forge.resolveShaToBranch(s.repo, 'f'.repeat(40));
        expect(unknown.ok).toBe(true);
        expect(unknown.ok && unknown.value).toBeUndefined();
      });
    });

    describe('input', () => {
      it('refuses a malformed repo with invalid_input before any request', async () => {
        const sent = s.fake?.requests.length ?? 0;
        for (const repo of ['acme', 'acme/web/extra', '', '../web', 'acme/we b']) {
          const res = await s.forge.getCombinedStatus(repo, 'a'.repeat(40));
          expect(!res.ok && res.error.code).toBe('invalid_input');
          expect(!res.ok && res.error.message).toMatch(/repo/);
        }
        const merge = await s.forge.mergePullRequest('nope', 1, { headSha: 'a'.repeat(40) });
        expect(!merge.ok && merge.error.code).toBe('invalid_input');
        expect(s.fake?.requests.length ?? 0).toBe(sent);
      });
    });

    describe('faults', () => {
      const withFake = (ctx: { skip: () => void }) => {
        if (!s.fake) ctx.skip(); // only a subject with a fake server can inject faults
        return s.fake;
      };

      it('retries a 5xx burst, a 429 and a dropped connection, and then succeeds', async (ctx) => {
        const fake = withFake(ctx);
        if (!fake) return;
        const sha = await s.createBranch('task/fault-1');
        fake.inject({ kind: 'status', status: 503, times: 2, path: '/status' });
        const sent = fake.requests.length;
        const combined = await s.forge.getCombinedStatus(s.repo, sha);
        expect(combined.ok).toBe(true);
        expect(fake.requests.length - sent).toBe(3);
        fake.inject({ kind: 'rate-limit', retryAfterSeconds: 0, path: '/statuses/' });
        expect((await s.forge.setCommitStatus(s.repo, sha, { context: 'ci/x', state: 'success' })).ok).toBe(true);
        fake.inject({ kind: 'drop', path: '/branches' });
        const branch = await s.forge.resolveShaToBranch(s.repo, sha);
        expect(branch.ok && branch.value).toBe('task/fault-1');
      });

      it('a merge under a 5xx burst lands exactly once', async (ctx) => {
        const fake = withFake(ctx);
        if (!fake) return;
        const { head, pr } = await openPr('task/fault-2');
        fake.inject({ kind: 'status', status: 502, times: 2, path: '/merge' });
        const merged = await s.forge.mergePullRequest(s.repo, pr.number, { headSha: head });
        expect(merged.ok && merged.value.alreadyMerged).toBe(false);
        const cmp = await s.forge.compare(s.repo, s.baseBranch, 'task/fault-2');
        expect(cmp.ok && cmp.value.aheadBy).toBe(0);
        expect(
          (await s.forge.mergePullRequest(s.repo, pr.number, { headSha: head })).unwrapOr(undefined)?.alreadyMerged,
        ).toBe(true);
      });

      it('reports a malformed answer, a refusal and a persistent outage as errors, never a throw', async (ctx) => {
        const fake = withFake(ctx);
        if (!fake) return;
        const sha = await s.createBranch('task/fault-3');
        fake.inject({ kind: 'malformed-json', path: '/status' });
        const malformed = await s.forge.getCombinedStatus(s.repo, sha);
        expect(malformed.ok).toBe(false);
        expect(!malformed.ok && ['api_refused', 'invalid_input']).toContain(!malformed.ok && malformed.error.code);

        fake.inject({
          kind: 'status',
          status: 403,
          body: { message: 'token does not have scope write:repository' },
          path: '/statuses/',
        });
        const sent = fake.requests.length;
        const refused = await s.forge.setCommitStatus(s.repo, sha, { context: 'ci/x', state: 'success' });
        expect(!refused.ok && refused.error.code).toBe('unauthorized');
        expect(!refused.ok && refused.error.message).toContain('token does not have scope write:repository');
        expect(fake.requests.length - sent).toBe(1);

        fake.inject({ kind: 'status', status: 500, times: 50, path: '/branches' });
        const down = await s.forge.resolveShaToBranch(s.repo, sha);
        expect(down.ok).toBe(false);
        expect(!down.ok && down.error.code).toBe('api_refused');
        expect(!down.ok && down.error.details.status).toBe(500);
      });
    });
  });
}
