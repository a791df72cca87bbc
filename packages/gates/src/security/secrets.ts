import type { ConveyorError, Result } from '@conveyor/core';
import { err, ok } from '@conveyor/core';
import { loadTrustedScanConfig, type TrustedScanConfig } from './base-config.js';
import {
  type GitObject,
  isNullSha,
  type ObjectReader,
  openObjectReader,
  type RangeCommit,
  type ScanGitOptions,
  streamRangeCommits,
} from './git-objects.js';
import type { SecurityRange } from './git-range.js';
import type { PatchCommit } from './patch.js';
import {
  allowlistsNameCommits,
  INLINE_ALLOW_IGNORED_TAG,
  scanTextFragments,
  type TextFacts,
  type TextFragment,
} from './scanner.js';
import type { SecretFinding, SecretsConfig } from './types.js';
import { linesBack, linesOn, type TextRange } from './windowed.js';

/** The rule id of a finding that says the range changed the scan's own configuration. */
export const SCAN_CONFIG_CHANGED_RULE = 'conveyor-scan-config-changed';
/** The `File` of findings in a commit message. */
export const COMMIT_MESSAGE_FILE = '<commit message>';
/** The `File` of findings in a commit's header (author, committer and other fields). */
export const COMMIT_HEADER_FILE = '<commit header>';
/** Matches of one rule in one blob beyond which the rest are not listed (the gate fails anyway). */
export const MAX_MATCHES_PER_RULE_AND_BLOB = 1000;
/** Commits whose objects are read and scanned together (with {@link CHUNKS_AHEAD}, bounds memory on a long range). */
const COMMITS_PER_CHUNK = 50;
/** The first chunk is small, so the scan starts while git reads the next one. */
const FIRST_CHUNK = 20;
/** Chunks asked of git before the scan reaches them, besides the one being scanned. */
const CHUNKS_AHEAD = 3;
/** Code units of blob texts kept for the scan of their next versions (the oldest are let go first). */
const KEPT_TEXT_UNITS = 64 * 1024 * 1024;

/** Options of {@link scanSecrets}. */
export interface ScanSecretsOptions extends ScanGitOptions {
  /** the repository (objects are read from it; its work tree is never read) */
  readonly repoDir: string;
  /** the verified range to scan */
  readonly range: SecurityRange;
  /** a repository path read from the base commit, or an absolute host path; default `.gitleaks.toml` at the base */
  readonly configPath?: string;
  /** a gitleaks JSON baseline: a repository path (base commit) or an absolute host path */
  readonly baselinePath?: string;
  /** the ignore list: a repository path (base commit) or an absolute host path; default `.gitleaksignore` */
  readonly ignorePath?: string;
  /** honour inline `gitleaks:allow` markers written by the range (default `false`) */
  readonly honourInlineAllow?: boolean;
  /** a change to the scan configuration inside the range is a warning instead of a finding (default `false`) */
  readonly allowScanConfigChanges?: boolean;
  /** decode encoded text this many times and scan it again (gitleaks' `--max-decode-depth`; default 5, 0 = off) */
  readonly maxDecodeDepth?: number;
  /** kept for the signature of older callers; the scan has no time limit of its own (the caller kills it) */
  readonly timeoutMs?: number;
  /**
   * scan every blob whole, even a new version of one the scan read before
   * (the reference the tests compare the scan around changes with)
   *
   * @internal
   */
  readonly wholeBlobs?: boolean;
}

/** What a secrets scan found (secrets in clear: redact before showing). */
export interface SecretsScanResult {
  readonly findings: readonly SecretFinding[];
  readonly commitsScanned: number;
  /** bytes of objects (blobs and commits) scanned */
  readonly bytesScanned: number;
  /** notes for the report (markers not honoured, attribute files changed, …); never a secret */
  readonly notes: readonly string[];
  readonly gitMs: number;
  readonly scanMs: number;
}

interface CommitMeta extends PatchCommit {
  readonly headerLines: readonly string[];
}

/** Reads a raw commit object: headers (continuation lines folded away), author, date and message. */
function parseCommitObject(sha: string, raw: Buffer): CommitMeta {
  const text = raw.toString('utf8');
  const split = text.indexOf('\n\n');
  const head = split === -1 ? text : text.slice(0, split);
  const message = split === -1 ? '' : text.slice(split + 2);
  const headerLines: string[] = [];
  const parents: string[] = [];
  let author = '';
  let email = '';
  let date = '';
  let inSignature = false;
  for (const line of head.split('\n')) {
    if (line.startsWith(' ')) {
      if (!inSignature) headerLines.push(line);
      continue;
    }
    const [key = ''] = line.split(' ', 1);
    inSignature = key === 'gpgsig' || key === 'gpgsig-sha256' || key === 'mergetag';
    if (inSignature || key === 'tree') continue;
    if (key === 'parent') {
      parents.push(line.slice(7));
      continue;
    }
    headerLines.push(line);
    const a = /^author (.*) <([^>]*)> (\d+) ([+-]\d{4})$/.exec(line);
    if (a) {
      author = a[1] ?? '';
      email = a[2] ?? '';
      date = new Date(Number(a[3]) * 1000).toISOString();
    }
  }
  return { sha, parents, author, email, date, message: message.trim(), headerLines };
}

/**
 * The texts a blob is scanned as: its UTF-8 reading, and when it holds NUL
 * bytes (binary-looking, UTF-16 or UTF-32 text) the same bytes with every NUL
 * removed, so an ASCII secret in a wide encoding reads as itself. Nothing is
 * skipped for being binary.
 */
function blobTexts(content: Buffer): string[] {
  const utf8 = content.toString('utf8');
  if (!content.includes(0)) return [utf8];
  const narrowed = Buffer.allocUnsafe(content.length);
  let n = 0;
  for (let i = 0; i < content.length; i += 1) {
    const b = content[i] as number;
    if (b !== 0) {
      narrowed[n] = b;
      n += 1;
    }
  }
  return [utf8, narrowed.toString('utf8', 0, n)];
}

function fragmentOf(commit: PatchCommit, file: string, text: string): TextFragment {
  return { commit, file, text };
}

const keyOf = (f: SecretFinding) => `${f.RuleID}\u0000${f.Secret}`;
/** The key of a blob at a path (what a scan learns of a text depends on its path too). */
const blobAt = (sha: string, path: string) => `${sha}\u0000${path}`;

/**
 * The built-in engine. Configuration comes only from the range's base commit
 * or the host ({@link loadTrustedScanConfig}). For every commit of the range
 * it scans the commit message and header and every blob the commit wrote,
 * read exactly as git stores it (`git cat-file --batch`: no attributes, no
 * textconv, nothing skipped as binary); a secret counts when no parent's
 * version of the file already held it. A change to a scan configuration file
 * inside the range is a {@link SCAN_CONFIG_CHANGED_RULE} finding.
 *
 * @example
 * ```ts
 * const range = await resolveSecurityRange('/repo', 'origin/main..HEAD');
 * if (range.ok) {
 *   const scan = await scanSecrets({ repoDir: '/repo', range: range.value });
 * }
 * ```
 */
export async function scanSecrets(options: ScanSecretsOptions): Promise<Result<SecretsScanResult, ConveyorError>> {
  const gitOptions: ScanGitOptions = {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onChild ? { onChild: options.onChild } : {}),
  };
  const t0 = performance.now();
  // the range's commits are read while the configuration is loaded, and scanned while git still prints the rest;
  // one git reads the objects the whole scan asks for
  const stream = streamRangeCommits(options.repoDir, options.range.baseSha, options.range.headSha, gitOptions);
  const reader = openObjectReader(options.repoDir, gitOptions);
  // the parents' blobs through a git of their own: behind the chunks asked ahead, they would wait for those
  let parentsReader: ObjectReader | undefined;
  const readers = {
    chunks: reader,
    parents: () => {
      parentsReader ??= openObjectReader(options.repoDir, gitOptions);
      return parentsReader;
    },
  };
  try {
    return await scanRange(options, gitOptions, t0, stream, readers);
  } finally {
    await Promise.all([reader.close(), parentsReader?.close()]);
  }
}

/** {@link scanSecrets} once its git processes run. */
async function scanRange(
  options: ScanSecretsOptions,
  gitOptions: ScanGitOptions,
  t0: number,
  stream: ReturnType<typeof streamRangeCommits>,
  readers: { readonly chunks: ObjectReader; readonly parents: () => ObjectReader },
): Promise<Result<SecretsScanResult, ConveyorError>> {
  const trusted = await loadTrustedScanConfig({
    repoDir: options.repoDir,
    baseSha: options.range.baseSha,
    ...(options.configPath === undefined ? {} : { configPath: options.configPath }),
    ...(options.baselinePath === undefined ? {} : { baselinePath: options.baselinePath }),
    ...(options.ignorePath === undefined ? {} : { ignorePath: options.ignorePath }),
    ...gitOptions,
  });
  if (!trusted.ok) {
    await stream.done;
    return err(trusted.error);
  }
  let gitMs = performance.now() - t0;
  let scanMs = 0;
  const findings: SecretFinding[] = [];
  const notes: string[] = [];
  let bytes = 0;
  const parentKeys = new Map<string, Set<string>>();
  const kept = new KeptTexts(options.wholeBlobs === true ? 0 : KEPT_TEXT_UNITS);
  // chunk i holds the commits from boundAt(i) to boundAt(i + 1): a small first one, so the scan starts early
  const boundAt = (i: number): number => (i === 0 ? 0 : FIRST_CHUNK + (i - 1) * COMMITS_PER_CHUNK);
  /** Chunk i's commits (none once the log has no more) and the objects they wrote (parents' blobs are read later, only when a parent check needs them). */
  const readChunk = async (i: number) => {
    const known = await stream.atLeast(boundAt(i + 1));
    const chunk = known.slice(boundAt(i), boundAt(i + 1));
    const wanted: string[] = [];
    for (const c of chunk) {
      wanted.push(c.sha);
      for (const ch of c.changes) if (ch.newMode !== '160000') wanted.push(ch.newSha);
    }
    const objects = chunk.length === 0 ? ok(new Map<string, GitObject>()) : await readers.chunks.read(wanted);
    return { chunk, objects };
  };
  /**
   * A chunk's blob steps checked against the parents' blobs that no earlier
   * scan answered for (read by git while the next chunk was scanned), in the
   * chunk's order.
   */
  const settle = async (
    scanned: readonly ScannedCommit[],
    parentsRead: Promise<Result<Map<string, GitObject>, ConveyorError>>,
  ): Promise<Result<void, ConveyorError>> => {
    const g1 = performance.now();
    const read = await parentsRead;
    gitMs += performance.now() - g1;
    if (!read.ok) return err(read.error);
    const parents = read.value;
    const s1 = performance.now();
    for (const sc of scanned) {
      bytes += sc.bytes;
      for (const step of sc.steps) {
        if (step.kind === 'note') notes.push(step.note);
        else if (step.kind === 'finding') findings.push(step.finding);
        else {
          const before = new Set<string>();
          for (const parentSha of step.parentShas) {
            for (const k of keysOfBlob(
              parentSha,
              step.parentPath,
              parents,
              trusted.value,
              parentKeys,
              options.maxDecodeDepth,
            ))
              before.add(k);
          }
          for (const f of step.found) {
            if (before.has(keyOf(f))) continue;
            findings.push(f);
            if (f.Tags.includes(INLINE_ALLOW_IGNORED_TAG)) {
              notes.push(
                `inline gitleaks:allow marker at ${f.File}:${f.StartLine} (commit ${sc.short}) not honoured: the branch wrote it (setting securityHonourInlineAllow)`,
              );
            }
          }
        }
      }
    }
    scanMs += performance.now() - s1;
    return ok(undefined);
  };
  /** The parents' blobs a chunk's blob steps need that no earlier scan answers for, in one read (none: no git). */
  const readParents = (scanned: readonly ScannedCommit[]) => {
    const missing: string[] = [];
    for (const sc of scanned) {
      for (const step of sc.steps) {
        if (step.kind !== 'blob') continue;
        for (const parentSha of step.parentShas) {
          if (!isNullSha(parentSha) && !parentKeys.has(blobAt(parentSha, step.parentPath))) missing.push(parentSha);
        }
      }
    }
    return missing.length === 0 ? Promise.resolve(ok(new Map<string, GitObject>())) : readers.parents().read(missing);
  };
  // the chunks after the one being scanned are asked of git already, so the scan does not wait for it
  let nextChunk = 0;
  const ahead: ReturnType<typeof readChunk>[] = [];
  const askAhead = () => {
    while (ahead.length < CHUNKS_AHEAD) {
      ahead.push(readChunk(nextChunk));
      nextChunk += 1;
    }
  };
  askAhead();
  // the last chunk scanned, its parent check still to do
  let carry: { scanned: ScannedCommit[]; parentsRead: ReturnType<typeof readParents> } | undefined;
  const abandon = async (error: ConveyorError) => {
    await carry?.parentsRead;
    await Promise.all(ahead);
    await stream.done;
    return err(error);
  };
  for (;;) {
    const g0 = performance.now();
    const { chunk, objects } = await (ahead.shift() as ReturnType<typeof readChunk>);
    if (chunk.length === 0) break;
    // git reads the next chunks while this one is scanned (the scan yields between commits so its output is taken)
    askAhead();
    if (!objects.ok) return abandon(objects.error);
    gitMs += performance.now() - g0;
    const scanned: ScannedCommit[] = [];
    for (const c of chunk) {
      const s0 = performance.now();
      scanned.push(scanCommit(c, objects.value, trusted.value, options, parentKeys, kept));
      scanMs += performance.now() - s0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // the last chunk's parent check, whose blobs git read while this chunk was scanned: findings stay in commit order
    if (carry) {
      const settled = await settle(carry.scanned, carry.parentsRead);
      if (!settled.ok) return abandon(settled.error);
    }
    carry = { scanned, parentsRead: readParents(scanned) };
  }
  if (carry) {
    const settled = await settle(carry.scanned, carry.parentsRead);
    carry = undefined;
    if (!settled.ok) return abandon(settled.error);
  }
  // every commit was scanned only if git's whole log was read and its count is right
  const all = await stream.done;
  if (!all.ok) return err(all.error);
  return ok({
    findings,
    commitsScanned: all.value.length,
    bytesScanned: bytes,
    notes: [`config: ${trusted.value.origin}`, ...notes],
    gitMs: Math.round(gitMs),
    scanMs: Math.round(scanMs),
  });
}

/** One thing a scanned commit reports, in order: a note, a finding, or a blob's findings still to check against its parents. */
type ScanStep =
  | { readonly kind: 'note'; readonly note: string }
  | { readonly kind: 'finding'; readonly finding: SecretFinding }
  | {
      readonly kind: 'blob';
      readonly found: readonly SecretFinding[];
      readonly parentShas: readonly string[];
      readonly parentPath: string;
    };

interface ScannedCommit {
  readonly short: string;
  readonly steps: readonly ScanStep[];
  readonly bytes: number;
}

/**
 * Scans one commit's message, header and the blobs it wrote. The parent check
 * is left to the caller (a blob step), which reads the parents' blobs that no
 * earlier scan answers for in one batch per chunk.
 */
function scanCommit(
  c: RangeCommit,
  objects: ReadonlyMap<string, GitObject>,
  trusted: TrustedScanConfig,
  options: ScanSecretsOptions,
  parentKeys: Map<string, Set<string>>,
  kept: KeptTexts,
): ScannedCommit {
  const raw = objects.get(c.sha);
  const meta = parseCommitObject(c.sha, raw?.content ?? Buffer.alloc(0));
  const commit: PatchCommit = {
    sha: meta.sha,
    parents: meta.parents,
    author: meta.author,
    email: meta.email,
    date: meta.date,
    message: meta.message,
  };
  const scanOptions = {
    ignoredFingerprints: trusted.ignoredFingerprints,
    baseline: trusted.baseline,
    honourInlineAllow: options.honourInlineAllow === true,
    ...(options.maxDecodeDepth === undefined ? {} : { maxDecodeDepth: options.maxDecodeDepth }),
  };
  // (and no allowlist names commits: the parent check scans without a commit)
  const neutral =
    trusted.ignoredFingerprints.size === 0 &&
    trusted.baseline.length === 0 &&
    options.honourInlineAllow !== true &&
    !namesCommits(trusted.config);
  const short = c.sha.slice(0, 12);
  const steps: ScanStep[] = [];
  const note = (n: string) => steps.push({ kind: 'note', note: n });
  let bytes = raw?.content.length ?? 0;
  const messageFragments = [
    fragmentOf(commit, COMMIT_MESSAGE_FILE, meta.message),
    fragmentOf(commit, COMMIT_HEADER_FILE, meta.headerLines.join('\n')),
  ];
  for (const finding of scanTextFragments(trusted.config, messageFragments, scanOptions)) {
    steps.push({ kind: 'finding', finding });
  }

  for (const ch of c.changes) {
    for (const p of new Set([ch.path, ...(ch.fromPath === undefined ? [] : [ch.fromPath])])) {
      if (trusted.trustPaths.has(p)) {
        const what = `${p} (scan configuration) changed in commit ${short}`;
        if (options.allowScanConfigChanges) {
          note(`${what}: allowed by the host (securityAllowScanConfigChanges); the base commit's version was used`);
        } else {
          steps.push({ kind: 'finding', finding: configChangedFinding(commit, p) });
        }
      }
      if (p === '.gitattributes' || p.endsWith('/.gitattributes')) {
        note(`${p} changed in commit ${short}: ignored by the scan, which reads blobs as git stores them`);
      }
    }
    if (ch.newMode === '160000' || isNullSha(ch.newSha)) continue;
    const blob = objects.get(ch.newSha);
    if (!blob) continue;
    bytes += blob.content.length;
    const seen = new Set<string>();
    const found: SecretFinding[] = [];
    const blobOptions = {
      ...scanOptions,
      maxMatchesPerRule: MAX_MATCHES_PER_RULE_AND_BLOB,
      onLimit: (rule: string, file: string) =>
        note(
          `${file} (commit ${short}): more than ${MAX_MATCHES_PER_RULE_AND_BLOB} matches of rule ${rule}; only the first are listed`,
        ),
    };
    const texts = blobTexts(blob.content);
    const single = texts.length === 1 ? (texts[0] as string) : undefined;
    // what the scan learns of a single text is kept for the scan of its next version
    const keep =
      single === undefined ? {} : { onFacts: (facts: TextFacts) => kept.add(ch.newSha, ch.path, single, facts) };
    // a new version of a text this scan read is scanned around what it changed (see aroundChanges)
    const attempt =
      single === undefined ? undefined : aroundChanges(ch, single, commit, trusted.config, blobOptions, kept);
    if (attempt === 'nothing') continue;
    const results =
      attempt === undefined
        ? texts.map((text) =>
            scanTextFragments(trusted.config, [fragmentOf(commit, ch.path, text)], { ...blobOptions, ...keep }),
          )
        : [attempt];
    for (const result of results) {
      for (const f of result) {
        const k = `${keyOf(f)}\u0000${f.StartLine}`;
        if (seen.has(k)) continue;
        seen.add(k);
        found.push(f);
      }
    }
    // with nothing ignored, baselined or honoured, what this blob holds is what a later commit's parent check asks
    if (neutral) parentKeys.set(blobAt(ch.newSha, ch.path), new Set(found.map(keyOf)));
    if (found.length === 0) continue;
    steps.push({ kind: 'blob', found, parentShas: ch.parentShas, parentPath: ch.fromPath ?? ch.path });
  }
  return { short, steps, bytes };
}

/**
 * Blob texts of the range and what their scans learnt, for the scans of their
 * next versions: by blob and path (what a scan learns of a text depends on its
 * path, which rules and allowlists may name: a copy of the text elsewhere is
 * another entry), bounded, and each let go when its next version is scanned,
 * so what is kept is about one version of each file.
 */
class KeptTexts {
  private readonly texts = new Map<string, { readonly text: string; readonly facts: TextFacts }>();
  private units = 0;

  constructor(private readonly budget: number) {}

  add(sha: string, path: string, text: string, facts: TextFacts): void {
    const key = blobAt(sha, path);
    if (this.budget === 0 || text.length > this.budget / 4 || this.texts.has(key)) return;
    this.texts.set(key, { text, facts });
    this.units += text.length;
    for (const [old, k] of this.texts) {
      if (this.units <= this.budget) break;
      this.texts.delete(old);
      this.units -= k.text.length;
    }
  }

  /** The text kept for `sha` at `path`, let go: its next version replaces it (another child of it is scanned whole). */
  take(sha: string, path: string): { readonly text: string; readonly facts: TextFacts } | undefined {
    const key = blobAt(sha, path);
    const kept = this.texts.get(key);
    if (kept) {
      this.texts.delete(key);
      this.units -= kept.text.length;
    }
    return kept;
  }
}

/**
 * The lines of `after` that differ from `before`: from the line of the first
 * unit that differs to the line of the first unit of their common end. The
 * text before the range is `before`'s first units, the text after it
 * `before`'s last units.
 */
function changedLines(before: string, after: string): TextRange {
  const n = Math.min(before.length, after.length);
  // equal stretches are skipped a block at a time (the engine compares two slices at memory speed), the rest unit by unit
  let i = 0;
  for (const block of [4096, 64]) {
    while (i + block <= n && before.slice(i, i + block) === after.slice(i, i + block)) i += block;
  }
  while (i < n && before.charCodeAt(i) === after.charCodeAt(i)) i += 1;
  let j = 0;
  const b = before.length;
  const a = after.length;
  for (const block of [4096, 64]) {
    while (j + block <= n - i && before.slice(b - j - block, b - j) === after.slice(a - j - block, a - j)) j += block;
  }
  while (j < n - i && before.charCodeAt(b - 1 - j) === after.charCodeAt(a - 1 - j)) j += 1;
  // (j ≤ n - i: the common end starts at or after the first unit that differs)
  return { start: linesBack(after, i, 0), end: linesOn(after, a - j, 0) };
}

/**
 * Scans a new version of a file around what it changed, when the scan read
 * its one parent's version at the same path: a match that touches no changed
 * line lies in text the parent holds, whose findings the parent's own scan
 * answered for. `'nothing'` when nothing touching a change is found (the blob
 * adds nothing); the blob's findings when the scanner read it whole anyway
 * (the configuration or the text did not allow less); undefined when
 * something is found, or the scan read no parent: the blob is then scanned
 * whole.
 */
function aroundChanges(
  ch: RangeCommit['changes'][number],
  text: string,
  commit: PatchCommit,
  config: SecretsConfig,
  blobOptions: NonNullable<Parameters<typeof scanTextFragments>[2]>,
  kept: KeptTexts,
): 'nothing' | SecretFinding[] | undefined {
  if (ch.parentShas.length !== 1 || ch.fromPath !== undefined) return undefined;
  const parent = kept.take(ch.parentShas[0] as string, ch.path);
  if (!parent) return undefined;
  const changed = changedLines(parent.text, text);
  // a change over most of the file: the whole blob costs less than reading around the change, then maybe again
  if (2 * (changed.end - changed.start) > text.length) return undefined;
  let facts: TextFacts | undefined;
  const fragment: TextFragment = {
    ...fragmentOf(commit, ch.path, text),
    region: { changed: [changed], parent: parent.facts, parentText: parent.text },
  };
  // a limit reached near the changes is told by the whole scan that follows
  const limited: [string, string][] = [];
  const found = scanTextFragments(config, [fragment], {
    ...blobOptions,
    onLimit: (rule, file) => limited.push([rule, file]),
    onFacts: (f) => {
      facts = f;
    },
  });
  // no facts: a global allowlist skips the file, as it would the whole blob
  if (facts === undefined) return 'nothing';
  if (facts.touchingOnly && found.length > 0) return undefined;
  kept.add(ch.newSha, ch.path, text, facts);
  if (facts.touchingOnly) return 'nothing';
  for (const [rule, file] of limited) blobOptions.onLimit?.(rule, file);
  return found;
}

const commitsNamed = new WeakMap<SecretsConfig, boolean>();

/** Whether some allowlist of the configuration names commits (asked once per configuration, not per commit). */
function namesCommits(config: SecretsConfig): boolean {
  let named = commitsNamed.get(config);
  if (named === undefined) {
    named = allowlistsNameCommits(config);
    commitsNamed.set(config, named);
  }
  return named;
}

/** What a parent's version of a file already held: (rule, secret) keys, cached per blob and path. */
function keysOfBlob(
  sha: string,
  path: string,
  objects: ReadonlyMap<string, GitObject>,
  trusted: TrustedScanConfig,
  cache: Map<string, Set<string>>,
  maxDecodeDepth: number | undefined,
): Set<string> {
  if (isNullSha(sha)) return new Set();
  const cacheKey = blobAt(sha, path);
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const keys = new Set<string>();
  const blob = objects.get(sha);
  if (blob) {
    const commit: PatchCommit = { sha: '', parents: [], author: '', email: '', date: '', message: '' };
    for (const text of blobTexts(blob.content)) {
      const options = {
        honourInlineAllow: false,
        maxMatchesPerRule: MAX_MATCHES_PER_RULE_AND_BLOB,
        ...(maxDecodeDepth === undefined ? {} : { maxDecodeDepth }),
      };
      for (const f of scanTextFragments(trusted.config, [fragmentOf(commit, path, text)], options)) {
        keys.add(keyOf(f));
      }
    }
  }
  cache.set(cacheKey, keys);
  return keys;
}

function configChangedFinding(commit: PatchCommit, path: string): SecretFinding {
  return {
    RuleID: SCAN_CONFIG_CHANGED_RULE,
    Description:
      'the branch changed a file that configures the secret scan; the scan used the base commit version, and the change needs a human review (or the host setting securityAllowScanConfigChanges)',
    StartLine: 1,
    EndLine: 1,
    StartColumn: 1,
    EndColumn: 1,
    Match: `scan configuration changed: ${path}`,
    Secret: '',
    File: path,
    Commit: commit.sha,
    Entropy: 0,
    Author: commit.author,
    Email: commit.email,
    Date: commit.date,
    Message: commit.message,
    Tags: ['conveyor', 'trust-boundary'],
    Fingerprint: `${commit.sha}:${path}:${SCAN_CONFIG_CHANGED_RULE}:1`,
  };
}
