import { shannonEntropy } from './entropy.js';
import { keywordIndexOf } from './keyword-index.js';
import type { PatchFragment } from './patch.js';
import { currentRuleIds } from './rule-aliases.js';
import type { SecretAllowlist, SecretFinding, SecretRule, SecretsConfig } from './types.js';

const INLINE_ALLOW = 'gitleaks:allow';

/** What an allowlist is checked against for one candidate finding. */
interface Candidate {
  readonly commit: string;
  readonly file: string;
  readonly secret: string;
  readonly match: string;
  readonly line: string;
  /** for `regexTarget: 'line'`: a cached test of the candidate's line(s) */
  readonly lineHit?: (al: SecretAllowlist) => boolean;
}

function allowlistApplies(al: SecretAllowlist, c: Candidate): boolean {
  const checks: boolean[] = [];
  if (al.commits.length > 0) {
    checks.push(
      c.commit !== '' && al.commits.some((sha) => sha !== '' && (c.commit.startsWith(sha) || sha.startsWith(c.commit))),
    );
  }
  if (al.paths.length > 0) checks.push(al.paths.some((p) => p.test(c.file)));
  if (al.regexes.length > 0) {
    if (al.regexTarget === 'line' && c.lineHit) checks.push(c.lineHit(al));
    else {
      const target = al.regexTarget === 'match' ? c.match : al.regexTarget === 'line' ? c.line : c.secret;
      checks.push(al.regexes.some((r) => r.test(target)));
    }
  }
  if (al.stopwords.length > 0) {
    const lower = c.secret.toLowerCase();
    checks.push(al.stopwords.some((w) => lower.includes(w)));
  }
  if (checks.length === 0) return false;
  return al.condition === 'AND' ? checks.every(Boolean) : checks.some(Boolean);
}

/** Only commit and path criteria: decides before any regex runs whether a whole file is allowed. */
function pathOrCommitOnly(al: SecretAllowlist): boolean {
  return al.regexes.length === 0 && al.stopwords.length === 0;
}

function pickSecret(rule: SecretRule, text: string, groups: readonly (string | undefined)[]): string {
  if (rule.secretGroup !== undefined) {
    if (rule.secretGroup === 0) return text;
    return groups[rule.secretGroup - 1] ?? '';
  }
  for (const g of groups) if (g !== undefined && g !== '') return g;
  return text;
}

/** Index of the line holding `offset`, by binary search over line start offsets. */
function lineIndexAt(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] as number) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Where one finding of a fragment matched (offsets in the fragment's text). */
interface Span {
  readonly finding: SecretFinding;
  readonly start: number;
  readonly end: number;
  readonly generic: boolean;
}

/**
 * A specific rule and a generic (tag `generic`) rule often match the same
 * secret (`token = "ghp_…"`); keep only the specific finding. Sorted spans and
 * a running maximum keep this O(n log n) in the number of findings.
 */
function withoutGenericOverlaps(spans: readonly Span[]): SecretFinding[] {
  const specific = spans.filter((s) => !s.generic).sort((a, b) => a.start - b.start);
  const maxEnd: number[] = [];
  for (const [i, s] of specific.entries()) maxEnd.push(Math.max(s.end, i > 0 ? (maxEnd[i - 1] as number) : 0));
  const overlapsSpecific = (g: Span): boolean => {
    // the last specific span starting before g ends
    let lo = 0;
    let hi = specific.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((specific[mid] as Span).start < g.end) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && (maxEnd[found] as number) > g.start;
  };
  return spans.filter((s) => !s.generic || !overlapsSpecific(s)).map((s) => s.finding);
}

/** Options of {@link scanFragments}. */
export interface ScanFragmentsOptions {
  /** fingerprints to ignore (`.gitleaksignore`) */
  readonly ignoredFingerprints?: ReadonlySet<string>;
  /** findings already known (a baseline report): not reported again */
  readonly baseline?: readonly SecretFinding[];
  /**
   * honour inline `gitleaks:allow` markers (default `false`: a marker is
   * written by the same author as the secret, so the finding stands and is
   * tagged {@link INLINE_ALLOW_IGNORED_TAG})
   */
  readonly honourInlineAllow?: boolean;
  /**
   * at most this many matches of one rule per fragment (default: no limit). A
   * blob holding thousands of secrets fails the gate with the first ones; the
   * limit keeps such an input from costing a finding object per match.
   */
  readonly maxMatchesPerRule?: number;
  /** hears each rule whose matches in a fragment reached `maxMatchesPerRule` */
  readonly onLimit?: (rule: string, file: string) => void;
}

/** The tag of a finding whose line carries a `gitleaks:allow` marker that was not honoured. */
export const INLINE_ALLOW_IGNORED_TAG = 'inline-allow-not-honoured';

/**
 * What a baseline entry is matched on: the rule, file, start line and commit
 * (what the gitleaks fingerprint `commit:file:rule:line` holds), never the
 * `Secret` field, so a redacted report (this tool's own) works as a baseline.
 */
export function baselineKey(f: Pick<SecretFinding, 'RuleID' | 'File' | 'Commit' | 'StartLine'>): string {
  return `${f.Commit}\u0000${f.File}\u0000${f.RuleID}\u0000${f.StartLine}`;
}

/** The keys of a baseline entry: one per current id of its rule (an old id stands for the ids that replaced it). */
export function baselineKeys(f: Pick<SecretFinding, 'RuleID' | 'File' | 'Commit' | 'StartLine'>): string[] {
  return currentRuleIds(f.RuleID).map((RuleID) => baselineKey({ ...f, RuleID }));
}

/**
 * Scans added lines with a compiled configuration and returns gitleaks-shaped
 * findings (secrets in clear: redact before showing them). Applies the
 * keyword prefilter, path restrictions, entropy thresholds, rule and global
 * allowlists, the `gitleaks:allow` marker, ignored fingerprints and a baseline.
 *
 * @example
 * ```ts
 * const findings = scanFragments(config, parsePatchLog(stdout).fragments);
 * ```
 */
export function scanFragments(
  config: SecretsConfig,
  fragments: readonly PatchFragment[],
  options: ScanFragmentsOptions = {},
): SecretFinding[] {
  const ignored = options.ignoredFingerprints ?? new Set<string>();
  const baseline = new Set((options.baseline ?? []).flatMap(baselineKeys));
  const globalFileLevel = config.allowlists.filter((a) => pathOrCommitOnly(a) && a.targetRules.length === 0);
  const globalOther = config.allowlists.filter((a) => !globalFileLevel.includes(a));
  const out: SecretFinding[] = [];
  // one pass over each fragment finds every keyword of every rule
  const keywordsIn = keywordIndexOf(config).present;

  const genericIds = new Set(config.rules.filter((r) => r.tags.includes('generic')).map((r) => r.id));
  for (const fragment of fragments) {
    const spans: Span[] = [];
    const suppressed = new Set<SecretFinding>();
    const fileCandidate: Candidate = {
      commit: fragment.commit.sha,
      file: fragment.file,
      secret: '',
      match: '',
      line: '',
    };
    if (globalFileLevel.some((a) => allowlistApplies(a, fileCandidate))) continue;
    const starts: number[] = [];
    let length = 0;
    for (const l of fragment.lines) {
      starts.push(length);
      length += l.text.length + 1;
    }
    const text = fragment.lines.map((l) => l.text).join('\n');
    const present = keywordsIn(text.toLowerCase());
    // which lines carry an inline marker: computed once, so a long line is not searched per match
    const marked = new Set<number>();
    if (text.includes(INLINE_ALLOW)) {
      for (const [i, l] of fragment.lines.entries()) if (l.text.includes(INLINE_ALLOW)) marked.add(i);
    }
    const markedBetween = (from: number, to: number): boolean => {
      if (marked.size === 0) return false;
      for (let i = from; i <= to; i += 1) if (marked.has(i)) return true;
      return false;
    };

    for (const rule of config.rules) {
      if (rule.path && !rule.path.test(fragment.file)) continue;
      if (rule.keywords.length > 0 && !rule.keywords.some((k) => present.has(k))) continue;
      const listsForRule = [
        ...rule.allowlists,
        ...globalOther.filter((a) => a.targetRules.length === 0 || a.targetRules.includes(rule.id)),
      ];
      const emit = (f: Omit<SecretFinding, 'Fingerprint'>, start: number, end: number) => {
        const Fingerprint = `${f.Commit}:${f.File}:${f.RuleID}:${f.StartLine}`;
        const finding = { ...f, Fingerprint };
        // an ignored or baselined finding still hides the generic matches it overlaps
        if (
          ignored.has(Fingerprint) ||
          ignored.has(`${f.File}:${f.RuleID}:${f.StartLine}`) ||
          baseline.has(baselineKey(finding))
        ) {
          suppressed.add(finding);
        }
        spans.push({ finding, start, end, generic: genericIds.has(f.RuleID) });
      };
      // a line-target allowlist is tested once per line span, however many matches it holds
      const lineVerdicts = new Map<string, boolean>();
      const base = {
        File: fragment.file,
        Commit: fragment.commit.sha,
        Author: fragment.commit.author,
        Email: fragment.commit.email,
        Date: fragment.commit.date,
        Message: fragment.commit.message,
        RuleID: rule.id,
        Description: rule.description,
        Tags: [...rule.tags],
      };
      if (!rule.regex) {
        // a path-only rule: the file itself is the finding
        if (listsForRule.some((a) => allowlistApplies(a, fileCandidate))) continue;
        const first = fragment.lines[0];
        emit(
          {
            ...base,
            StartLine: first?.lineNo ?? 1,
            EndLine: first?.lineNo ?? 1,
            StartColumn: 1,
            EndColumn: 1,
            Match: `file detected: ${fragment.file}`,
            Secret: '',
            Entropy: 0,
          },
          0,
          0,
        );
        continue;
      }
      const limit = options.maxMatchesPerRule ?? Number.POSITIVE_INFINITY;
      const matches = rule.regex.findAll(text, limit);
      if (matches.length >= limit) options.onLimit?.(rule.id, fragment.file);
      for (const m of matches) {
        const secret = pickSecret(rule, m.text, m.groups);
        if (secret === '') continue;
        const entropy = shannonEntropy(secret);
        if (rule.entropy !== undefined && entropy < rule.entropy) continue;
        const startIdx = lineIndexAt(starts, m.start);
        const endIdx = lineIndexAt(starts, Math.max(m.start, m.end - 1));
        const hasMarker = markedBetween(startIdx, endIdx);
        if (hasMarker && options.honourInlineAllow === true) continue;
        let lineText: string | undefined;
        const lineOf = () => {
          lineText ??= fragment.lines
            .slice(startIdx, endIdx + 1)
            .map((l) => l.text)
            .join('\n');
          return lineText;
        };
        const lineHit = (a: SecretAllowlist): boolean => {
          const key = `${listsForRule.indexOf(a)}:${startIdx}:${endIdx}`;
          let v = lineVerdicts.get(key);
          if (v === undefined) {
            const line = lineOf();
            v = a.regexes.some((r) => r.test(line));
            lineVerdicts.set(key, v);
          }
          return v;
        };
        const candidate: Candidate = { ...fileCandidate, secret, match: m.text, line: '', lineHit };
        if (listsForRule.some((a) => allowlistApplies(a, candidate))) continue;
        const startLine = fragment.lines[startIdx];
        const endLine = fragment.lines[endIdx];
        emit(
          {
            ...base,
            StartLine: startLine?.lineNo ?? 0,
            EndLine: endLine?.lineNo ?? 0,
            StartColumn: m.start - (starts[startIdx] ?? 0) + 1,
            EndColumn: m.end - (starts[endIdx] ?? 0),
            Match: m.text,
            Secret: secret,
            Entropy: Math.round(entropy * 1e4) / 1e4,
            ...(hasMarker ? { Tags: [...rule.tags, INLINE_ALLOW_IGNORED_TAG] } : {}),
          },
          m.start,
          m.end,
        );
      }
    }
    for (const f of withoutGenericOverlaps(spans)) if (!suppressed.has(f)) out.push(f);
  }
  return out;
}

/**
 * Scans one piece of text (not a git history) as if it were a file added in a
 * commit: handy for table tests and for scanning a single file.
 *
 * @example
 * ```ts
 * const found = scanText(config, 'const t = "…";', { file: 'src/a.ts' });
 * ```
 */
export function scanText(
  config: SecretsConfig,
  text: string,
  where: { file?: string; commit?: string } = {},
  options: ScanFragmentsOptions = {},
): SecretFinding[] {
  const lines = text.split('\n').map((t, i) => ({ lineNo: i + 1, text: t }));
  return scanFragments(
    config,
    [
      {
        commit: { sha: where.commit ?? '', parents: [], author: '', email: '', date: '', message: '' },
        file: where.file ?? 'input',
        lines,
      },
    ],
    options,
  );
}
