import type { ConveyorError, Result, Tracker, TrackerIssue } from '@conveyor/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Fault, RecordedRequest } from '../http/fake-server.js';

/** An issue the suite asks the subject to create in the backing tracker. */
export interface TrackerSeedIssue {
  readonly title: string;
  /** a state name, one of {@link TrackerSubject.states} */
  readonly state: string;
  readonly description?: string;
}

/** The fake server behind a subject, for the fault cases. */
export interface TrackerSubjectFake {
  /** queues a fault on the next matching request(s) */
  inject(fault: Fault): void;
  /** every request the fake received (to count retries) */
  readonly requests: readonly RecordedRequest[];
  /** the tracker's per-attempt timeout in ms (the `slow` case waits past it) */
  readonly timeoutMs: number;
  /** how many retries the tracker makes after the first attempt (at least 2 for the burst cases) */
  readonly retries: number;
}

/** What {@link trackerConformance} runs against, made fresh for every test. */
export interface TrackerSubject {
  readonly tracker: Tracker;
  /**
   * At least two state names the backing tracker knows; the suite seeds into
   * `states[0]` and `states[1]` and moves issues between them.
   */
  readonly states: readonly [string, string, ...string[]];
  /** creates issues in the backing tracker; resolves to their ids, in order */
  seed(issues: readonly TrackerSeedIssue[]): Promise<readonly string[]>;
  /** the comments of an issue as stored (HTML), to read back what `comment` wrote; optional */
  readComments?(issueId: string): Promise<readonly string[]>;
  /** when the subject runs against a fake server: the fault cases run */
  readonly fake?: TrackerSubjectFake;
  close(): Promise<void>;
}

/** Makes a fresh subject (a new fake, a new client) for one test. */
export type TrackerSubjectFactory = () => Promise<TrackerSubject>;

function expectOk<T>(result: Result<T, ConveyorError>, what: string): T {
  if (!result.ok) expect.fail(`${what} failed: [${result.error.code}] ${result.error.message}`);
  return result.value;
}

function expectErr<T>(result: Result<T, ConveyorError>, what: string): ConveyorError {
  if (result.ok) expect.fail(`${what} should have failed, it returned ${JSON.stringify(result.value)}`);
  return result.error;
}

async function listAll(tracker: Tracker, state: string, perPage: number): Promise<TrackerIssue[][]> {
  const pages: TrackerIssue[][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i += 1) {
    const page = expectOk(
      await tracker.listIssuesByState(state, cursor === undefined ? { perPage } : { perPage, cursor }),
      `listIssuesByState(${state}) page ${i + 1}`,
    );
    pages.push(page.items);
    cursor = page.nextCursor;
    if (cursor === undefined) return pages;
  }
  return expect.fail(`listIssuesByState(${state}) never reached a last page`);
}

/**
 * The contract every `Tracker` adapter must meet, as a vitest suite:
 * reading an issue, listing by state across several pages with no duplicate
 * and nothing missed, setting a state and reading it back, commenting,
 * `not_found` for an unknown issue, and — when the subject exposes its fake
 * server — the behaviour under injected faults (5xx bursts and 429 retried,
 * dropped connections retried, slow answers time out, 4xx not retried,
 * malformed JSON a clear error, never a throw).
 *
 * @example
 * ```ts
 * trackerConformance('plane', async () => {
 *   const fake = await startFakePlane({ apiKey: 'k', workspaceSlug: 'acme', projectId: pid });
 *   const tracker = createPlaneTracker({ baseUrl: fake.url, apiKey: 'k', workspaceSlug: 'acme', projectId: pid, timeoutMs: 300, retries: 2, sleep: async () => {} });
 *   return {
 *     tracker,
 *     states: ['Todo', 'In Progress'],
 *     seed: async (issues) => issues.map((i) => fake.addIssue({ name: i.title, state: i.state }).id),
 *     fake: { inject: fake.inject, requests: fake.requests, timeoutMs: 300, retries: 2 },
 *     close: () => fake.close(),
 *   };
 * });
 * ```
 */
export function trackerConformance(name: string, makeSubject: TrackerSubjectFactory): void {
  describe(`Tracker conformance: ${name}`, () => {
    let subject: TrackerSubject;

    beforeEach(async () => {
      subject = await makeSubject();
    });
    afterEach(async () => {
      await subject.close();
    });

    it('reads an issue with its title, description and state', async () => {
      const [from] = subject.states;
      const [id = ''] = await subject.seed([{ title: 'Read me', state: from, description: '<p>details</p>' }]);
      const issue = expectOk(await subject.tracker.getIssue(id), 'getIssue');
      expect(issue.id).toBe(id);
      expect(issue.title).toBe('Read me');
      expect(issue.description).toContain('details');
      expect(issue.state).toBe(from);
      expect(issue.project.length).toBeGreaterThan(0);
    });

    it('answers not_found for an unknown issue', async () => {
      await subject.seed([{ title: 'Someone else', state: subject.states[0] }]);
      const error = expectErr(await subject.tracker.getIssue('00000000-0000-4000-8000-000000000000'), 'getIssue');
      expect(error.code).toBe('not_found');
    });

    it('lists issues by state across several pages, with no duplicate and nothing missed', async () => {
      const [from, to] = subject.states;
      const wanted = await subject.seed(Array.from({ length: 7 }, (_, i) => ({ title: `Wanted ${i}`, state: from })));
      const others = await subject.seed(Array.from({ length: 3 }, (_, i) => ({ title: `Other ${i}`, state: to })));
      const pages = await listAll(subject.tracker, from, 3);
      expect(pages.length).toBeGreaterThanOrEqual(3);
      for (const page of pages) expect(page.length).toBeLessThanOrEqual(3);
      const ids = pages.flat().map((i) => i.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort()).toEqual([...wanted].sort());
      for (const issue of pages.flat()) expect(issue.state).toBe(from);
      for (const other of others) expect(ids).not.toContain(other);
    });

    it('returns a single page without a cursor when everything fits', async () => {
      const [from] = subject.states;
      const seeded = await subject.seed([
        { title: 'A', state: from },
        { title: 'B', state: from },
      ]);
      const page = expectOk(await subject.tracker.listIssuesByState(from, { perPage: 50 }), 'listIssuesByState');
      expect(page.nextCursor).toBeUndefined();
      expect(page.items.map((i) => i.id).sort()).toEqual([...seeded].sort());
    });

    it('lists an empty state as one empty page', async () => {
      const [from, to] = subject.states;
      await subject.seed([{ title: 'Elsewhere', state: from }]);
      const page = expectOk(await subject.tracker.listIssuesByState(to), 'listIssuesByState');
      expect(page.items).toEqual([]);
      expect(page.nextCursor).toBeUndefined();
    });

    it('sets a state and reads it back', async () => {
      const [from, to] = subject.states;
      const [id = ''] = await subject.seed([{ title: 'Move me', state: from }]);
      expectOk(await subject.tracker.setState(id, to), 'setState');
      expect(expectOk(await subject.tracker.getIssue(id), 'getIssue').state).toBe(to);
      const inTarget = expectOk(await subject.tracker.listIssuesByState(to), 'listIssuesByState');
      expect(inTarget.items.map((i) => i.id)).toContain(id);
      const inSource = expectOk(await subject.tracker.listIssuesByState(from), 'listIssuesByState');
      expect(inSource.items.map((i) => i.id)).not.toContain(id);
    });

    it('refuses an unknown state name without changing the issue', async () => {
      const [from] = subject.states;
      const [id = ''] = await subject.seed([{ title: 'Stay', state: from }]);
      const error = expectErr(await subject.tracker.setState(id, 'No Such State 9f2c'), 'setState');
      expect(['invalid_input', 'not_found']).toContain(error.code);
      expect(error.message).toContain('No Such State 9f2c');
      expect(expectOk(await subject.tracker.getIssue(id), 'getIssue').state).toBe(from);
    });

    it('adds a comment', async () => {
      const [id = ''] = await subject.seed([{ title: 'Talk', state: subject.states[0] }]);
      const html = '<p>Gate <b>security</b> passed &amp; merged</p>';
      expectOk(await subject.tracker.comment(id, html), 'comment');
      if (subject.readComments) expect(await subject.readComments(id)).toContain(html);
    });

    it('answers not_found when commenting on or moving an unknown issue', async () => {
      await subject.seed([{ title: 'Someone else', state: subject.states[0] }]);
      const missing = '00000000-0000-4000-8000-000000000001';
      expect(expectErr(await subject.tracker.comment(missing, '<p>x</p>'), 'comment').code).toBe('not_found');
      expect(expectErr(await subject.tracker.setState(missing, subject.states[1]), 'setState').code).toBe('not_found');
    });

    describe('under injected faults', () => {
      const withFake = (fn: (fake: TrackerSubjectFake, issueId: string) => Promise<void>) => async () => {
        // Subjects without a fake server (a real tracker) cannot inject faults: these cases do nothing for them.
        const fake = subject.fake;
        if (!fake) return;
        const [id = ''] = await subject.seed([{ title: 'Faulty', state: subject.states[0] }]);
        // Warm up (a state cache, say) so the fault lands on the call under test.
        expectOk(await subject.tracker.listIssuesByState(subject.states[0]), 'warm-up listIssuesByState');
        await fn(fake, id);
      };

      it(
        'retries a burst of 5xx and succeeds',
        withFake(async (fake, id) => {
          const before = fake.requests.length;
          fake.inject({ kind: 'status', status: 503, times: 2 });
          expect(expectOk(await subject.tracker.getIssue(id), 'getIssue').id).toBe(id);
          expect(fake.requests.length - before).toBeGreaterThanOrEqual(3);
        }),
      );

      it(
        'honours a 429 with Retry-After and succeeds',
        withFake(async (fake, id) => {
          fake.inject({ kind: 'rate-limit', retryAfterSeconds: 0 });
          expectOk(await subject.tracker.setState(id, subject.states[1]), 'setState');
          expect(expectOk(await subject.tracker.getIssue(id), 'getIssue').state).toBe(subject.states[1]);
        }),
      );

      it(
        'retries a dropped connection of a read',
        withFake(async (fake, id) => {
          fake.inject({ kind: 'drop' });
          expectOk(await subject.tracker.getIssue(id), 'getIssue');
        }),
      );

      it(
        'never sends a comment twice: a dropped connection may have posted it, so it fails instead',
        withFake(async (fake, id) => {
          fake.inject({ kind: 'drop' });
          const error = expectErr(await subject.tracker.comment(id, '<p>after a drop</p>'), 'comment');
          expect(error.code).toBe('network');
          if (subject.readComments) {
            expect((await subject.readComments(id)).filter((c) => c === '<p>after a drop</p>')).toHaveLength(0);
          }
        }),
      );

      it(
        'fails with timeout when every attempt is too slow',
        withFake(async (fake, id) => {
          fake.inject({ kind: 'slow', delayMs: fake.timeoutMs + 150, times: fake.retries + 1 });
          const error = expectErr(await subject.tracker.getIssue(id), 'getIssue');
          expect(error.code).toBe('timeout');
          expect(error.retryable).toBe(true);
        }),
      );

      it(
        'fails with the server status when 5xx persists, saying the API refused',
        withFake(async (fake, id) => {
          fake.inject({ kind: 'status', status: 502, times: fake.retries + 1 });
          const error = expectErr(await subject.tracker.getIssue(id), 'getIssue');
          expect(error.code).toBe('api_refused');
          expect(error.details.status).toBe(502);
        }),
      );

      it(
        'never retries a 4xx and reports the server message',
        withFake(async (fake, id) => {
          const before = fake.requests.length;
          fake.inject({ kind: 'status', status: 403, body: { detail: 'You do not have permission (injected)' } });
          const error = expectErr(await subject.tracker.getIssue(id), 'getIssue');
          expect(error.code).toBe('unauthorized');
          expect(error.message).toContain('You do not have permission (injected)');
          expect(fake.requests.length - before).toBe(1);
        }),
      );

      it(
        'turns malformed JSON into an error result, then recovers',
        withFake(async (fake, id) => {
          fake.inject({ kind: 'malformed-json' });
          const error = expectErr(await subject.tracker.getIssue(id), 'getIssue');
          expect(['api_refused', 'invalid_input']).toContain(error.code);
          expect(expectOk(await subject.tracker.getIssue(id), 'getIssue').id).toBe(id);
        }),
      );
    });
  });
}
