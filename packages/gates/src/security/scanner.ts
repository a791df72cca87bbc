import {
  createDecoder,
  DEFAULT_MAX_DECODE_DEPTH,
  decodeTags,
  type EncodedSegment,
  holdsDecodableText,
  MAX_DECODE_DEPTH,
  segmentsOverlapping,
  toOriginalRange,
} from './decode.js';
import { shannonEntropy } from './entropy.js';
import { type KeywordIndex, type KeywordOccurrences, keywordIndexOf } from './keyword-index.js';
import type { PatchFragment } from './patch.js';
import { maxMatchLength, patternFacts } from './re2-translate.js';
import { currentRuleIds } from './rule-aliases.js';
import type {
  RegexMatch,
  SecretAllowlist,
  SecretFinding,
  SecretRegex,
  SecretRule,
  SecretRuleRequirement,
  SecretsConfig,
} from './types.js';
import { findAllInLines, findAllNear, linesBack, linesOn, type TextRange, touchesAny } from './windowed.js';

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

/** A finding before its fingerprint, with its offsets in the fragment's own text. */
interface Found {
  readonly finding: Omit<SecretFinding, 'Fingerprint'>;
  readonly start: number;
  readonly end: number;
}

/** Where gitleaks' proximity test puts a component near a primary finding: start lines and start columns. */
function near(primary: Found, component: Found, q: SecretRuleRequirement): boolean {
  if (
    q.withinLines !== undefined &&
    Math.abs(primary.finding.StartLine - component.finding.StartLine) > q.withinLines
  ) {
    return false;
  }
  if (
    q.withinColumns !== undefined &&
    Math.abs(primary.finding.StartColumn - component.finding.StartColumn) > q.withinColumns
  ) {
    return false;
  }
  return true;
}

/**
 * A composite rule's findings that have a finding of every required rule near
 * them, each listing those near findings (`Required`, in the order of the
 * rule's requirements), as gitleaks lists them.
 */
function withRequired(
  required: readonly SecretRuleRequirement[],
  primaries: readonly Found[],
  componentFindings: (id: string) => readonly Found[],
): Found[] {
  const components = required.map((q) => ({ q, found: componentFindings(q.id) }));
  const out: Found[] = [];
  for (const p of primaries) {
    const nearBy = components.map(({ q, found }) => found.filter((c) => near(p, c, q)));
    if (nearBy.some((list) => list.length === 0)) continue;
    const Required = nearBy.flat().map(({ finding: c }) => ({
      RuleID: c.RuleID,
      StartLine: c.StartLine,
      EndLine: c.EndLine,
      StartColumn: c.StartColumn,
      EndColumn: c.EndColumn,
      Match: c.Match,
      Secret: c.Secret,
    }));
    out.push({ ...p, finding: { ...p.finding, Required } });
  }
  return out;
}

const trimNewlines = (s: string): string => s.replace(/^\n+/, '').replace(/\n+$/, '');

/** The line(s) of `text` around `[from, to)`, as gitleaks gives a decoded finding's line to a line allowlist. */
function lineAround(text: string, from: number, to: number): { from: number; to: number } {
  const before = text.lastIndexOf('\n', Math.max(0, from - 1));
  const after = text.indexOf('\n', to);
  return { from: before < 0 ? 0 : before + 1, to: after < 0 ? text.length : after };
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
  /**
   * how many times encoded text (base64, hex, percent, unicode escapes) is
   * decoded and scanned again (gitleaks' `--max-decode-depth`; default
   * {@link DEFAULT_MAX_DECODE_DEPTH}, 0 = no decoding, at most
   * {@link MAX_DECODE_DEPTH}). A finding in decoded text is reported at the
   * encoded text, tagged `decoded:<encoding>` and `decode-depth:<n>`.
   */
  readonly maxDecodeDepth?: number;
  /**
   * read every text whole: every rule on the whole text of every pass, every
   * decoding pass over its whole text (the reference the tests compare the
   * windowed reads with; the answer is the same, only slower)
   *
   * @internal
   */
  readonly readWhole?: boolean;
  /**
   * hears, once per text fragment, what the scan learnt of its text that a
   * scan of a changed version of it can reuse (see {@link TextFragment})
   *
   * @internal the history scan's
   */
  readonly onFacts?: (facts: TextFacts) => void;
}

/**
 * What a scan learnt of one text that the scan of a changed version of it
 * reuses (see {@link TextFragment}).
 *
 * @internal the history scan's
 */
export interface TextFacts {
  /**
   * one flag per keyword of the configuration's keyword index: 0 only when
   * the keyword does not occur in the lower-cased text (a flag may be set for
   * a keyword that does not occur)
   */
  readonly flags: Uint8Array;
  /** false only when the scan decoded, and its first decoding pass found nothing in the text to decode */
  readonly encoded: boolean;
  /**
   * the keyword flags of the lines of every decoding pass's text that hold a
   * decoded value (a flag may be set for a keyword none holds); undefined
   * when not known (the scan did not decode, or ran out of decoding budget)
   */
  readonly decodedFlags: Uint8Array | undefined;
  /** the text was scanned around its changed ranges: the findings listed are only those near them */
  readonly touchingOnly: boolean;
  /** some rule may have reached the scan's limit of matches per rule in the text */
  readonly limited: boolean;
  /** some generic finding of the text may have been hidden by a specific one it overlaps */
  readonly hidesGenerics: boolean;
  /** some generic finding may have been hidden by a finding of a rule without a bound of {@link REGION_MAX_NEWLINES} newlines */
  readonly unboundedHides: boolean;
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

const EMPTY_SET: ReadonlySet<string> = new Set<string>();

const maxLengths = new WeakMap<SecretRegex, number>();

/** The most code units one match of a compiled pattern spans (`Infinity`: unbounded), read once per pattern. */
function maxLengthOf(re: SecretRegex): number {
  let n = maxLengths.get(re);
  if (n === undefined) {
    n = maxMatchLength(re.source);
    maxLengths.set(re, n);
  }
  return n;
}

/** What {@link scanFragments} derives from a configuration alone. */
interface Prepared {
  readonly globalFileLevel: readonly SecretAllowlist[];
  readonly genericIds: ReadonlySet<string>;
  readonly rulesById: ReadonlyMap<string, SecretRule>;
  /** each rule's index in the configuration's rules */
  readonly ruleIndex: ReadonlyMap<SecretRule, number>;
  /** a rule's own allowlists, then the global ones that apply to it */
  readonly listsFor: (rule: SecretRule) => SecretAllowlist[];
  readonly index: KeywordIndex;
  readonly keywordIds: readonly Int32Array[];
  /** what a rule's pattern allows, by the rule's index: read off the pattern the first time the rule runs */
  readonly factsAt: (rule: number) => RuleFacts;
  /**
   * whether a changed version of a text may be scanned around its changes: no composite rule (whose
   * components may lie anywhere), and no keyword holding a newline (a text's keyword flags are then those of
   * its lines together)
   */
  readonly regionable: boolean;
  /** read off every rule's pattern the first time a scan around changes asks (see {@link RegionRules}) */
  readonly regionRules: () => RegionRules;
}

/**
 * What the scan around changes reads off a configuration's rules. A rule
 * runs there on a window of lines around the changes, and every match the
 * whole text holds that touches the window is checked (see {@link regionOf}
 * for why the window is as wide as it is).
 */
interface RegionRules {
  /**
   * how many lines on each side of the changes a rule's window reaches, by
   * the rule's index; the second array when the parent text may hide a
   * generic finding behind a specific one (a generic rule's window then
   * also holds every specific match that touches a specific rule's window)
   */
  readonly windowLines: readonly [Int32Array, Int32Array];
  /** how many lines on each side of the changes a match touching some rule's window may reach */
  readonly reach: number;
  /** the rules with a pattern, reported, whose matches may hold more than {@link REGION_MAX_NEWLINES} newlines */
  readonly unbounded: readonly number[];
  /** the reported rules with keywords whose matches need not hold one: whether they run depends on the whole text */
  readonly keywordGated: readonly number[];
  /**
   * by the rule's index, 1 when every match that touches the rule's window holds one of its keywords within
   * {@link NEAR_CHANGES_LINES} lines of the changes (all ASCII, so lower-casing reads them as RE2's case
   * folding does, but for U+017F): the rule runs only if one is written there
   */
  readonly nearChanges: Uint8Array;
}

/** What the scan reads off one rule's pattern. */
interface RuleFacts {
  /**
   * when every match holds one of the rule's keywords: where it runs, near their places (`window`: a bounded
   * pattern, `lines`: one whose matches hold a bounded number of newlines), else undefined
   */
  readonly nearKeywords: 'window' | 'lines' | undefined;
  /** the most newlines one match holds (`Infinity`: unbounded, or no regex) */
  readonly newlines: number;
  /** every match holds one of the rule's keywords */
  readonly holdsKeyword: boolean;
  /** every keyword is ASCII */
  readonly asciiKeywords: boolean;
}

const NO_FACTS: RuleFacts = {
  nearKeywords: undefined,
  newlines: Number.POSITIVE_INFINITY,
  holdsKeyword: false,
  asciiKeywords: true,
};

/** Rules whose matches may hold more newlines than this are run on the whole text of a changed version. */
const REGION_MAX_NEWLINES = 64;

/** How many lines around the changes are searched for keywords (see {@link RegionRules.nearChanges}). */
const NEAR_CHANGES_LINES = 48;

const preparedByConfig = new WeakMap<SecretsConfig, Prepared>();

/**
 * Whether some allowlist names commits: a finding a commit allowlist let pass in a parent may stand in its child.
 *
 * @internal the history scan's
 */
export function allowlistsNameCommits(config: SecretsConfig): boolean {
  return [...config.allowlists, ...config.rules.flatMap((r) => r.allowlists)].some((a) => a.commits.length > 0);
}

/**
 * How many lines a match of `newlines` newlines needs around the changes for
 * the whole-text search to agree with the parent's outside them: none when
 * no match crosses a line end, else one more than a match holds.
 */
function windowLinesFor(newlines: number): number {
  return newlines === 0 ? 0 : newlines + 1;
}

function regionRulesOf(config: SecretsConfig, factsAt: (rule: number) => RuleFacts): RegionRules {
  const n = config.rules.length;
  const plain = new Int32Array(n);
  const hiding = new Int32Array(n);
  const nearChanges = new Uint8Array(n);
  const unbounded: number[] = [];
  const keywordGated: number[] = [];
  // the most newlines a match of a bounded specific rule holds: a specific match that touches its rule's window
  // lies within twice that (and a line) of the changes
  let specific = 0;
  for (const [i, r] of config.rules.entries()) {
    const f = factsAt(i);
    if (r.skipReport === true) continue;
    if (r.keywords.length > 0 && !f.holdsKeyword) keywordGated.push(i);
    if (f.newlines > REGION_MAX_NEWLINES) {
      if (r.regex !== undefined) unbounded.push(i);
    } else if (!r.tags.includes('generic')) specific = Math.max(specific, f.newlines);
  }
  let reach = 0;
  for (const [i, r] of config.rules.entries()) {
    const f = factsAt(i);
    if (r.skipReport === true || f.newlines > REGION_MAX_NEWLINES) continue;
    plain[i] = windowLinesFor(f.newlines);
    hiding[i] = r.tags.includes('generic') ? Math.max(plain[i] as number, 2 * specific + 2) : (plain[i] as number);
    const far = (hiding[i] as number) + f.newlines;
    reach = Math.max(reach, far);
    if (f.nearKeywords !== undefined && f.asciiKeywords && far <= NEAR_CHANGES_LINES) nearChanges[i] = 1;
  }
  return { windowLines: [plain, hiding], reach, unbounded, keywordGated, nearChanges };
}

function preparedOf(config: SecretsConfig): Prepared {
  const known = preparedByConfig.get(config);
  if (known) return known;
  const globalFileLevel = config.allowlists.filter((a) => pathOrCommitOnly(a) && a.targetRules.length === 0);
  const globalOther = config.allowlists.filter((a) => !globalFileLevel.includes(a));
  const listsByRule = new Map<string, SecretAllowlist[]>();
  const index = keywordIndexOf(config);
  // each rule's pattern, parsed once, when the rule first runs (most rules of a short scan never do): its bound,
  // its newlines, whether every match holds a keyword
  const facts: (RuleFacts | undefined)[] = [];
  const factsAt = (i: number): RuleFacts => {
    let known = facts[i];
    if (known) return known;
    const r = config.rules[i];
    if (r?.regex === undefined) known = NO_FACTS;
    else {
      const f = patternFacts(r.regex.source, r.keywords);
      if (!maxLengths.has(r.regex)) maxLengths.set(r.regex, f.maxLength);
      const near = !f.holdsKeyword
        ? undefined
        : Number.isFinite(f.maxLength)
          ? 'window'
          : Number.isFinite(f.newlines)
            ? 'lines'
            : undefined;
      known = {
        nearKeywords: near,
        newlines: f.newlines,
        holdsKeyword: f.holdsKeyword,
        asciiKeywords: r.keywords.every((k) => [...k].every((c) => c.charCodeAt(0) < 0x80)),
      };
    }
    facts[i] = known;
    return known;
  };
  let regionRules: RegionRules | undefined;
  const prepared: Prepared = {
    globalFileLevel,
    genericIds: new Set(config.rules.filter((r) => r.tags.includes('generic')).map((r) => r.id)),
    rulesById: new Map(config.rules.map((r) => [r.id, r] as const)),
    ruleIndex: new Map(config.rules.map((r, i) => [r, i] as const)),
    listsFor: (rule) => {
      let lists = listsByRule.get(rule.id);
      if (!lists) {
        lists = [
          ...rule.allowlists,
          ...globalOther.filter((a) => a.targetRules.length === 0 || a.targetRules.includes(rule.id)),
        ];
        listsByRule.set(rule.id, lists);
      }
      return lists;
    },
    index,
    keywordIds: keywordIdsOf(config, index.keywords),
    factsAt,
    regionable:
      config.rules.every(
        (r) => (r.required === undefined || r.required.length === 0) && r.keywords.every((k) => !k.includes('\n')),
      ) && !allowlistsNameCommits(config),
    regionRules: () => {
      regionRules ??= regionRulesOf(config, factsAt);
      return regionRules;
    },
  };
  preparedByConfig.set(config, prepared);
  return prepared;
}

const baselineSets = new WeakMap<readonly SecretFinding[], ReadonlySet<string>>();

/** A baseline's keys, built once per baseline array (the same options serve every blob of a scan). */
function baselineSetOf(baseline: readonly SecretFinding[] | undefined): ReadonlySet<string> {
  if (baseline === undefined || baseline.length === 0) return EMPTY_SET;
  let keys = baselineSets.get(baseline);
  if (!keys) {
    keys = new Set(baseline.flatMap(baselineKeys));
    baselineSets.set(baseline, keys);
  }
  return keys;
}

const idsByConfig = new WeakMap<object, Int32Array[]>();

/** Each rule's keywords as indexes in the keyword index (-1: the empty keyword, which no text holds). */
function keywordIdsOf(config: SecretsConfig, keywords: readonly string[]): Int32Array[] {
  let ids = idsByConfig.get(config);
  if (!ids) {
    const at = new Map(keywords.map((k, i) => [k, i] as const));
    ids = config.rules.map((r) => Int32Array.from(r.keywords, (k) => at.get(k) ?? -1));
    idsByConfig.set(config, ids);
  }
  return ids;
}

function anyPresent(ids: Int32Array, flags: Uint8Array): boolean {
  for (const id of ids) if (id >= 0 && flags[id] === 1) return true;
  return false;
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
  return scanAll(config, fragments, options);
}

/**
 * A whole text to scan as one fragment, its lines numbered from 1 (a blob):
 * the scanner reads its lines off the text instead of a line array.
 *
 * @internal the history scan's
 */
export interface TextFragment {
  readonly commit: PatchFragment['commit'];
  readonly file: string;
  readonly text: string;
  /**
   * the text is a changed version of `parentText`, a text the scan read
   * before, whose facts are `parent`: `changed` (sorted, disjoint, each
   * starting at a line start and ending at a line end) holds every line that
   * differs, and the text before the first and after the last is the
   * parent's. The scan then lists only findings near the changes: none when
   * the whole text holds none its parent did not (every match away from the
   * changes is one the parent's whole-text search found, and passed or
   * failed the same filters), unless the configuration or the text does not
   * allow it (see {@link TextFacts}); it then reads the text whole.
   */
  readonly region?: {
    readonly changed: readonly TextRange[];
    readonly parent: TextFacts;
    readonly parentText: string;
  };
}

/** How a changed version of a text is scanned around its changes (see {@link regionOf}). */
interface Region {
  /** the changed lines as one range: from the first changed line's start to the last one's end */
  readonly from: number;
  readonly to: number;
  readonly parentText: string;
  /** where, in the parent's text, the text after `to` starts over (the unit at `to` is the one at `parentTo`) */
  readonly parentTo: number;
  /** which of {@link RegionRules.windowLines} applies: the parent may hide a generic finding */
  readonly hides: boolean;
  /** the text's decoding passes may hold decoded values (away from the changes) */
  readonly decodes: boolean;
  /** the text's keyword flags: a flag may be set that the text does not need */
  readonly flags: Uint8Array;
  /** the keyword flags of the lines within {@link NEAR_CHANGES_LINES} of a change (U+017F read as `s` too) */
  readonly nearFlags: Uint8Array;
  /** where the keywords occur in those lines (offsets from `nearStart`), when the index gives them all */
  readonly nearPlaces: KeywordOccurrences | undefined;
  readonly nearStart: number;
  /** what the text's decoding passes would hold ({@link TextFacts}) */
  readonly encoded: boolean;
  readonly decodedFlags: Uint8Array | undefined;
  /**
   * the rules without a bound of {@link REGION_MAX_NEWLINES} newlines that may run on a decoding pass (by
   * index): a match of one on a decoding pass of the text that touches a decoded value reads the text whole
   */
  readonly unboundedOnPasses: readonly number[];
}

/** Thrown inside a scan around changes that finds it cannot answer as the whole text would: it reads the text whole. */
const READ_WHOLE: unique symbol = Symbol('read the text whole');

/** The keyword flags of `text`, with U+017F read as `s` too (RE2's case folding). */
function foldedFlags(index: KeywordIndex, text: string): Uint8Array {
  const flags = index.flagsIn(text).slice();
  if (text.includes('\u017f')) {
    const folded = index.flagsIn(text.replaceAll('\u017f', 's'));
    for (let k = 0; k < flags.length; k += 1) flags[k] = (flags[k] as number) | (folded[k] as number);
  }
  return flags;
}

/**
 * How a changed version of a text is scanned around its changes, or
 * undefined when it is scanned whole.
 *
 * Why the answer is the whole text's. Write the text A X B and its parent
 * A Y B (X and Y the changed lines). For each rule the scan takes a window W
 * of X and the lines around it, as many as a match holds newlines and one
 * more, and asks for the whole-text search's matches that touch W (see
 * windowed.ts). The whole-text searches of the text and of the parent
 * (leftmost first, each resuming where its last match ended) agree until
 * they first look for a match at W's start or later: what came before read
 * only A. A search that resumes after the last match touching W, when that
 * match ends inside W, finds no match starting before W's end (it would touch
 * W) and finds, after it, what B alone decides; so when the last match
 * touching W ends inside W in both texts (asked of the parent only when the
 * text has such a match), both searches agree again after W. Every match
 * that touches no window is then the parent's, at the same place in A or B,
 * with the same lines around it: the same secret, passing or failing the same
 * entropy and allowlist tests. What the parent's scan answered for, this one
 * need not.
 *
 * What else could differ, and what the scan does about it:
 * - a rule whose keywords gate it but need not lie in its matches: whether it
 *   runs depends on the whole text, so a keyword of one written in X or Y
 *   reads the text whole;
 * - a generic finding the parent hid behind a specific finding near Y: a
 *   generic rule's window then holds every specific match that touches a
 *   specific rule's window; a parent that hid a generic finding behind a
 *   finding of a rule without a bound of {@link REGION_MAX_NEWLINES} newlines
 *   reads the text whole;
 * - a rule without that bound runs on the whole text (and on the parent's
 *   when it matches): a match of it away from the changed lines (and a line
 *   on each side) must be a match of the parent at the same place in the same
 *   text, else the text is read whole; a generic one reads the text whole
 *   when it matches at all;
 * - a limit on matches per rule: a parent that reached it, or a window that
 *   does, reads the text whole;
 * - decoding: a decoding pass of both texts holds their decoded values, away
 *   from the changes: no decoded value may lie within a match's reach of a
 *   window, and no window may hold a match (a pass's search could then enter
 *   the window elsewhere than the text's); a rule that could reach one
 *   further away (one without the bound) is run on the text's decoding
 *   passes, made whole, and a match of it there that touches a decoded value
 *   reads the text whole.
 */
function regionOf(
  prepared: Prepared,
  region: NonNullable<TextFragment['region']>,
  text: string,
  maxDepth: number,
  honourInlineAllow: boolean,
): Region | undefined {
  const { changed, parent, parentText } = region;
  const { index } = prepared;
  // a marker honoured in the text may hide a specific finding that hid a generic one in the parent's own scan
  if (!prepared.regionable || honourInlineAllow || changed.length === 0) return undefined;
  if (parent.flags.length !== index.keywords.length || parent.limited || parent.unboundedHides) return undefined;
  const rules = prepared.regionRules();
  const from = (changed[0] as TextRange).start;
  const to = (changed[changed.length - 1] as TextRange).end;
  const parentTo = to + parentText.length - text.length;
  if (parentTo < 0 || parentTo < from - 1) return undefined;
  const decodes = maxDepth > 0 && parent.encoded;
  if (maxDepth > 0) {
    // what a decoding pass decodes lies within a line, or ends with the newline after a `U+XXXX`: a line more
    // on each side. A parent with nothing decodable: the changed lines must hold nothing either. Else no
    // decoded value may lie within a match's reach of a window (a rule without a bound of REGION_MAX_NEWLINES
    // whose keywords may be on a decoding pass is run on the passes: see unboundedOnPasses)
    const margin = decodes ? rules.reach + 2 : 1;
    if (
      holdsDecodableText(
        text.slice(linesBack(text, from, margin), Math.min(text.length, linesOn(text, to, margin) + 1)),
      )
    ) {
      return undefined;
    }
  }
  // a keyword that gates a rule without lying in its matches, written or removed where the texts differ
  if (rules.keywordGated.length > 0) {
    const written = foldedFlags(index, text.slice(from, to));
    const removed = foldedFlags(index, parentText.slice(from, Math.max(from, parentTo)));
    for (const r of rules.keywordGated) {
      const ids = prepared.keywordIds[r] as Int32Array;
      if (anyPresent(ids, written) || anyPresent(ids, removed)) return undefined;
    }
  }
  const nearStart = linesBack(text, from, NEAR_CHANGES_LINES);
  const near = text.slice(nearStart, linesOn(text, to, NEAR_CHANGES_LINES));
  // (the index reuses what it returns: copied before it is asked again)
  const occurrences = index.occurrencesIn(near);
  // RE2 matches `s` case-insensitively with U+017F, which lower-casing leaves alone: the places would miss it
  const folds = near.includes('\u017f');
  const nearPlaces =
    occurrences && !folds
      ? { offsets: occurrences.occurrences.offsets.slice(), starts: occurrences.occurrences.starts.slice() }
      : undefined;
  const nearFlags = folds ? foldedFlags(index, near) : (occurrences ? occurrences.flags : index.flagsIn(near)).slice();
  const flags = parent.flags.slice();
  for (let k = 0; k < flags.length; k += 1) flags[k] = (flags[k] as number) | (nearFlags[k] as number);
  return {
    from,
    to,
    parentText,
    parentTo,
    hides: parent.hidesGenerics,
    decodes,
    flags,
    nearFlags,
    nearPlaces,
    nearStart,
    encoded: parent.encoded,
    decodedFlags: parent.decodedFlags,
    unboundedOnPasses: decodes ? unboundedOnPasses(prepared, flags, parent.decodedFlags) : [],
  };
}

/**
 * The rules without a bound of {@link REGION_MAX_NEWLINES} newlines that
 * could run on a decoding pass of a text with keyword flags `flags`, whose
 * decoded values' lines have keyword flags `decodedFlags` (a pass's keywords
 * are the text's, or lie in those lines; undefined: not known, every such
 * rule could run). A path-only rule does not run on a decoding pass; a rule
 * without keywords always does.
 */
function unboundedOnPasses(prepared: Prepared, flags: Uint8Array, decodedFlags: Uint8Array | undefined): number[] {
  const out: number[] = [];
  for (const r of prepared.regionRules().unbounded) {
    const ids = prepared.keywordIds[r] as Int32Array;
    if (decodedFlags === undefined || ids.length === 0 || anyPresent(ids, flags) || anyPresent(ids, decodedFlags)) {
      out.push(r);
    }
  }
  return out;
}

/**
 * {@link scanFragments} over whole texts (blobs), without splitting them into
 * line objects first.
 *
 * @internal the history scan's
 */
export function scanTextFragments(
  config: SecretsConfig,
  fragments: readonly TextFragment[],
  options: ScanFragmentsOptions = {},
): SecretFinding[] {
  return scanAll(config, fragments, options);
}

/**
 * A fragment's text and where its lines start (found the first time they are
 * asked for: a text scanned around its changes may never need them);
 * `lineNos` is absent when line i is number i + 1.
 */
function layoutOf(fragment: PatchFragment | TextFragment): {
  text: string;
  lineStarts: () => number[];
  lineNos: readonly number[] | undefined;
} {
  if ('text' in fragment) {
    const { text } = fragment;
    let starts: number[] | undefined;
    const lineStarts = (): number[] => {
      if (starts === undefined) {
        starts = [0];
        for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
      }
      return starts;
    };
    return { text, lineStarts, lineNos: undefined };
  }
  const starts: number[] = [];
  let length = 0;
  for (const l of fragment.lines) {
    starts.push(length);
    length += l.text.length + 1;
  }
  return {
    text: fragment.lines.map((l) => l.text).join('\n'),
    lineStarts: () => starts,
    lineNos: fragment.lines.map((l) => l.lineNo),
  };
}

function scanAll(
  config: SecretsConfig,
  fragments: readonly (PatchFragment | TextFragment)[],
  options: ScanFragmentsOptions,
): SecretFinding[] {
  const ignored = options.ignoredFingerprints ?? EMPTY_SET;
  const baseline = baselineSetOf(options.baseline);
  // what depends on the configuration alone is built once per configuration (a history scan calls this per blob)
  const prepared = preparedOf(config);
  const { globalFileLevel, genericIds, rulesById, ruleIndex, listsFor, index, keywordIds, factsAt } = prepared;
  const out: SecretFinding[] = [];
  const requestedDepth = options.maxDecodeDepth ?? DEFAULT_MAX_DECODE_DEPTH;
  const maxDepth = Number.isFinite(requestedDepth)
    ? Math.max(0, Math.min(MAX_DECODE_DEPTH, Math.floor(requestedDepth)))
    : 0;
  const limit = options.maxMatchesPerRule ?? Number.POSITIVE_INFINITY;
  const honourInlineAllow = options.honourInlineAllow === true;
  for (const fragment of fragments) {
    try {
      scanOne(fragment, true);
    } catch (e) {
      if (e !== READ_WHOLE) throw e;
      scanOne(fragment, false);
    }
  }
  return out;

  /** One fragment: around its changes when `aroundChanges` and it allows (throwing {@link READ_WHOLE} if that fails). */
  function scanOne(fragment: PatchFragment | TextFragment, aroundChanges: boolean): void {
    const spans: Span[] = [];
    const suppressed = new Set<SecretFinding>();
    const fileCandidate: Candidate = {
      commit: fragment.commit.sha,
      file: fragment.file,
      secret: '',
      match: '',
      line: '',
    };
    if (globalFileLevel.some((a) => allowlistApplies(a, fileCandidate))) return;
    const { text, lineStarts, lineNos } = layoutOf(fragment);
    const region =
      aroundChanges && 'text' in fragment && fragment.region !== undefined && options.readWhole !== true
        ? regionOf(prepared, fragment.region, text, maxDepth, honourInlineAllow)
        : undefined;
    // whether some rule reached the limit of matches, found once a rule's matches are known
    let limited = false;
    // whether a window around the changes held a match of some rule
    let matchedAround = false;
    /**
     * A rule's matches that touch its window around the changes, as the whole text gives them; throws
     * {@link READ_WHOLE} when the whole-text searches of the text and its parent may disagree away from the
     * window (see {@link regionOf}).
     */
    const matchesAround = (
      near: Region,
      r: number | undefined,
      re: SecretRegex,
      passText: string,
      lines: number,
      maxLength: number,
    ): RegexMatch[] => {
      const rules = prepared.regionRules();
      if (r === undefined || lines > REGION_MAX_NEWLINES) return unboundedAround(near, r, re, passText);
      const width = (rules.windowLines[near.hides ? 1 : 0] as Int32Array)[r] as number;
      const window = { start: linesBack(passText, near.from, width), end: linesOn(passText, near.to, width) };
      const places = rules.nearChanges[r] === 1 ? keywordRangesNear(near, r) : undefined;
      let found: RegexMatch[];
      if (places) {
        const all =
          factsAt(r).nearKeywords === 'window'
            ? findAllNear(re, passText, places, maxLength, limit, true)
            : findAllInLines(re, passText, places, lines, limit);
        if (all.length >= limit) throw READ_WHOLE;
        found = all.filter((m) => touchesAny([window], m));
      } else found = findAllInLines(re, passText, [window], lines, limit);
      if (found.length === 0) return found;
      // a decoding pass's search may enter the window elsewhere than this one; a limit cuts the count short
      if (near.decodes || found.length >= limit || (found.at(-1) as RegexMatch).end > window.end) throw READ_WHOLE;
      // the parent's search must leave the window inside it too
      const parentWindow = { start: window.start, end: near.parentTo + (window.end - near.to) };
      const before = findAllInLines(re, near.parentText, [parentWindow], lines, limit);
      if (before.length >= limit || (before.length > 0 && (before.at(-1) as RegexMatch).end > parentWindow.end)) {
        throw READ_WHOLE;
      }
      matchedAround = true;
      return found;
    };
    /**
     * A rule without a bound of {@link REGION_MAX_NEWLINES} newlines runs on the whole text, and on the
     * parent's when it matches: its matches that touch the lines of the changes and the line on each side,
     * when every other one is a match of the parent at the same place in the same text (the same finding,
     * which the parent's scan answered for); else it throws {@link READ_WHOLE}. A generic rule's match reads
     * the text whole (the parent may have hidden it behind a specific finding the change took away), and so
     * does a rule that reaches the limit in either text.
     */
    const unboundedAround = (near: Region, r: number | undefined, re: SecretRegex, passText: string): RegexMatch[] => {
      const all = re.findAll(passText, limit);
      if (all.length === 0) return all;
      const rule = r === undefined ? undefined : config.rules[r];
      if (!rule || rule.tags.includes('generic') || all.length >= limit) throw READ_WHOLE;
      const window = { start: linesBack(passText, near.from, 1), end: linesOn(passText, near.to, 1) };
      const touching = all.filter((m) => touchesAny([window], m));
      if (touching.length > 0) {
        // a finding near the changes: the text is read whole anyway
        matchedAround = true;
        return touching;
      }
      const theirs = new Set<string>();
      for (const m of re.findAll(near.parentText, limit)) theirs.add(`${m.start}:${m.end}`);
      if (theirs.size >= limit) throw READ_WHOLE;
      // the text after the changes is the parent's, `shift` units later
      const shift = near.parentTo - near.to;
      for (const m of all) {
        const at = m.start >= window.end ? `${m.start + shift}:${m.end + shift}` : `${m.start}:${m.end}`;
        if (!theirs.has(at)) throw READ_WHOLE;
      }
      return [];
    };
    const lineNoOf = (idx: number): number => (lineNos ? (lineNos[idx] ?? 0) : idx + 1);
    /** The text of lines `from` to `to` (indexes), joined by newlines. */
    const linesText = (from: number, to: number): string => {
      const starts = lineStarts();
      return text.slice(starts[from] ?? 0, to + 1 < starts.length ? (starts[to + 1] as number) - 1 : text.length);
    };
    // which lines carry an inline marker: found once (the first time a match asks), so a long line is not
    // searched per match
    let marked: Set<number> | undefined;
    const markedBetween = (from: number, to: number): boolean => {
      if (marked === undefined) {
        marked = new Set<number>();
        for (let at = text.indexOf(INLINE_ALLOW); at !== -1; at = text.indexOf(INLINE_ALLOW, at + 1)) {
          marked.add(lineIndexAt(lineStarts(), at));
        }
      }
      if (marked.size === 0) return false;
      for (let i = from; i <= to; i += 1) if (marked.has(i)) return true;
      return false;
    };
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

    // where the lines of a decoding pass's text start, found once per pass (the first time a rule needs them)
    // (keyed by the pass's decoded ranges, an array of its own: comparing the texts would read them)
    let passLines: { readonly pass: readonly TextRange[]; readonly starts: number[] } | undefined;
    const lineStartsOf = (passText: string, pass: readonly TextRange[]): number[] => {
      if (passLines?.pass !== pass) {
        const found = [0];
        for (let at = passText.indexOf('\n'); at !== -1; at = passText.indexOf('\n', at + 1)) found.push(at + 1);
        passLines = { pass, starts: found };
      }
      return passLines.starts;
    };

    /** A rule's matches on a pass: on a decoding pass only those that touch a decoded value are needed. */
    const matchesOf = (
      rule: SecretRule,
      re: SecretRegex,
      passText: string,
      decoding: boolean,
      decodedRanges: readonly TextRange[],
    ): RegexMatch[] => {
      const r = ruleIndex.get(rule);
      // (the rule's facts first: reading them records its pattern's bound)
      const lines = r === undefined ? Number.POSITIVE_INFINITY : factsAt(r).newlines;
      const maxLength = maxLengthOf(re);
      if (options.readWhole === true) return re.findAll(passText, limit);
      if (region && !decoding) return matchesAround(region, r, re, passText, lines, maxLength);
      if (decoding) {
        return Number.isFinite(maxLength) || !Number.isFinite(lines)
          ? findAllNear(re, passText, decodedRanges, maxLength, limit)
          : findAllInLines(re, passText, decodedRanges, lines, limit, lineStartsOf(passText, decodedRanges));
      }
      const near = keywordRanges(rule);
      if (!near) return re.findAll(passText, limit);
      return near.mode === 'window'
        ? findAllNear(re, passText, near.ranges, maxLength, limit, true)
        : findAllInLines(re, passText, near.ranges, lines, limit, lineStarts());
    };

    /** One rule on one decoding pass: its findings, allowlists applied, offsets in the fragment's own text. */
    const detect = (
      rule: SecretRule,
      passText: string,
      segments: readonly EncodedSegment[],
      decodedRanges: readonly TextRange[],
    ): Found[] => {
      if (rule.path && !rule.path.test(fragment.file)) return [];
      // most rules find nothing in most fragments: nothing is built for them. A decoding pass
      // reports only matches that touch a decoded value, so a bounded pattern runs only near them;
      // on the text as written, a pattern whose every match holds a keyword runs only near those
      const matches = rule.regex
        ? matchesOf(rule, rule.regex, passText, segments.length > 0, decodedRanges)
        : undefined;
      if (matches !== undefined && matches.length === 0) return [];
      const listsForRule = listsFor(rule);
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
      if (matches === undefined) {
        // a path-only rule: the file itself is the finding (once, not per decoding pass)
        if (segments.length > 0 || listsForRule.some((a) => allowlistApplies(a, fileCandidate))) return [];
        const firstLine = lineStarts().length > 0 ? lineNoOf(0) : 1;
        const finding = {
          ...base,
          StartLine: firstLine,
          EndLine: firstLine,
          StartColumn: 1,
          EndColumn: 1,
          Match: `file detected: ${fragment.file}`,
          Secret: '',
          Entropy: 0,
        };
        return [{ finding, start: 0, end: 0 }];
      }
      const found: Found[] = [];
      // a line-target allowlist is tested once per line span, however many matches it holds
      const lineVerdicts = new Map<string, boolean>();
      if (matches.length >= limit) {
        limited = true;
        options.onLimit?.(rule.id, fragment.file);
      }
      for (const m of matches) {
        let start = m.start;
        let end = m.end;
        let matchText = m.text;
        let decodedTags: string[] = [];
        let decodedLine: { from: number; to: number } | undefined;
        if (segments.length > 0) {
          // a decoding pass reports only what its decoded values take part in
          const hit = segmentsOverlapping(segments, m);
          if (hit.length === 0) continue;
          const original = toOriginalRange(hit, m);
          start = original.start;
          end = original.end;
          matchText = trimNewlines(m.text);
          decodedTags = decodeTags(hit);
          decodedLine = lineAround(
            passText,
            (hit[0] as EncodedSegment).decoded.start,
            (hit.at(-1) as EncodedSegment).decoded.end,
          );
        }
        const secret = pickSecret(rule, matchText, m.groups);
        if (secret === '') continue;
        const entropy = shannonEntropy(secret);
        if (rule.entropy !== undefined && entropy <= rule.entropy) continue;
        const starts = lineStarts();
        const startIdx = lineIndexAt(starts, start);
        const endIdx = lineIndexAt(starts, Math.max(start, end - 1));
        const hasMarker = markedBetween(startIdx, endIdx);
        if (hasMarker && options.honourInlineAllow === true) continue;
        const lineKey = decodedLine ? `d${decodedLine.from}:${decodedLine.to}` : `${startIdx}:${endIdx}`;
        let lineText: string | undefined;
        const lineOf = () => {
          lineText ??= decodedLine ? passText.slice(decodedLine.from, decodedLine.to) : linesText(startIdx, endIdx);
          return lineText;
        };
        const lineHit = (a: SecretAllowlist): boolean => {
          const key = `${listsForRule.indexOf(a)}:${lineKey}`;
          let v = lineVerdicts.get(key);
          if (v === undefined) {
            const line = lineOf();
            v = a.regexes.some((r) => r.test(line));
            lineVerdicts.set(key, v);
          }
          return v;
        };
        const candidate: Candidate = { ...fileCandidate, secret, match: matchText, line: '', lineHit };
        if (listsForRule.some((a) => allowlistApplies(a, candidate))) continue;
        const tags = [...rule.tags, ...decodedTags, ...(hasMarker ? [INLINE_ALLOW_IGNORED_TAG] : [])];
        found.push({
          finding: {
            ...base,
            StartLine: starts.length > 0 ? lineNoOf(startIdx) : 0,
            EndLine: starts.length > 0 ? lineNoOf(endIdx) : 0,
            StartColumn: start - (starts[startIdx] ?? 0) + 1,
            EndColumn: end - (starts[endIdx] ?? 0),
            Match: matchText,
            Secret: secret,
            Entropy: Math.round(entropy * 1e4) / 1e4,
            Tags: tags,
          },
          start,
          end,
        });
      }
      return found;
    };

    // where the keywords occur in the text as written (undefined: not known, every rule runs on the whole text)
    const places = options.readWhole === true || region ? undefined : index.occurrencesIn(text);
    const rangesByKeywords = new Map<string, TextRange[]>();
    /** The places of a rule's keywords, sorted and merged, when the rule runs only near them. */
    const keywordRanges = (rule: SecretRule): { mode: 'window' | 'lines'; ranges: TextRange[] } | undefined => {
      const r = ruleIndex.get(rule);
      const mode = r === undefined ? undefined : factsAt(r).nearKeywords;
      if (!places || r === undefined || mode === undefined) return undefined;
      const ids = keywordIds[r] as Int32Array;
      const key = ids.join(',');
      let ranges = rangesByKeywords.get(key);
      if (!ranges) {
        ranges = placesOf(ids, index.keywords, places.occurrences);
        rangesByKeywords.set(key, ranges);
      }
      return { mode, ranges };
    };

    /**
     * Around the changes no decoding pass runs (see {@link regionOf}); a rule without a bound of
     * {@link REGION_MAX_NEWLINES} newlines could still reach a change from a decoded value far from it. So the
     * text's decoding passes are made as the whole scan makes them, and a match of such a rule on one that
     * touches a decoded value (what the whole scan reports there) reads the text whole.
     */
    const unboundedOnDecodingPasses = (rules: readonly number[]): void => {
      const passes = createDecoder();
      let passText = text;
      let segments: EncodedSegment[] = [];
      for (let depth = 0; depth < maxDepth; depth += 1) {
        const next = passes.next(passText, segments);
        if (next.segments.length === 0) return;
        passText = next.text;
        segments = next.segments;
        // (a decoding pass reports only matches that touch a decoded value)
        const decoded = segments.map((g) => g.decoded);
        for (const r of rules) {
          const rule = config.rules[r] as SecretRule;
          if (rule.path && !rule.path.test(fragment.file)) continue;
          if (rule.regex?.findAll(passText, limit).some((m) => touchesAny(decoded, m))) throw READ_WHOLE;
        }
      }
    };
    // pass 0 scans the text as written; each further pass scans it with one more level decoded
    const decoder = createDecoder(undefined, options.readWhole === true);
    let passText = text;
    let segments: EncodedSegment[] = [];
    let decodedRanges: TextRange[] = [];
    // how often each keyword occurs in the pass's text, kept from pass to pass by reading only around
    // what changed (undefined: each pass reads its whole text)
    let counts: Int32Array | undefined;
    if (places && maxDepth > 0 && text.indexOf('\u017f') === -1) {
      counts = new Int32Array(index.keywords.length);
      for (let k = 0; k < counts.length; k += 1) {
        counts[k] = (places.occurrences.offsets[k + 1] as number) - (places.occurrences.offsets[k] as number);
      }
    }
    const countedFlags = new Uint8Array(index.keywords.length);
    // what a scan of a changed version of this text will reuse
    let textFlags: Uint8Array | undefined = region?.flags;
    let encoded = region !== undefined ? maxDepth === 0 || region.encoded : true;
    // the keyword flags of the lines of the decoding passes that hold a decoded value (see TextFacts)
    let decodedFlags: Uint8Array | undefined =
      region !== undefined
        ? region.decodedFlags
        : options.onFacts && maxDepth > 0
          ? new Uint8Array(index.keywords.length)
          : undefined;
    // a text scanned around its changes has no decoded value a finding touching a change could take part in,
    // and no rule that could reach one further away runs on a decoding pass (see regionOf): no decoding pass
    const depthLimit = region ? 0 : maxDepth;
    /** The places of a rule's keywords near the changes, in the text's offsets (undefined: the index gave no places). */
    const keywordRangesNear = (near: Region, r: number): TextRange[] | undefined => {
      if (!near.nearPlaces) return undefined;
      const ranges = placesOf(keywordIds[r] as Int32Array, index.keywords, near.nearPlaces);
      return near.nearStart === 0
        ? ranges
        : ranges.map((p) => ({ start: p.start + near.nearStart, end: p.end + near.nearStart }));
    };
    if (region && region.unboundedOnPasses.length > 0) unboundedOnDecodingPasses(region.unboundedOnPasses);
    for (let depth = 0; ; depth += 1) {
      let present: Uint8Array;
      if (depth === 0 && region) present = region.flags;
      else if (depth === 0 && places) present = places.flags;
      else if (counts) {
        for (let k = 0; k < counts.length; k += 1) countedFlags[k] = (counts[k] as number) > 0 ? 1 : 0;
        present = countedFlags;
      } else present = index.flagsIn(passText);
      const detected = new Map<string, Found[]>();
      const detectOnce = (rule: SecretRule): Found[] => {
        let f = detected.get(rule.id);
        if (!f) {
          f = detect(rule, passText, segments, decodedRanges);
          detected.set(rule.id, f);
        }
        return f;
      };
      for (let r = 0; r < config.rules.length; r += 1) {
        const rule = config.rules[r] as SecretRule;
        if (rule.skipReport === true) continue;
        if (rule.keywords.length > 0) {
          const ids = keywordIds[r] as Int32Array;
          if (!anyPresent(ids, present)) continue;
          // near the changes, a rule whose every match holds one of its keywords runs only if one is near them
          if (region && prepared.regionRules().nearChanges[r] === 1 && !anyPresent(ids, region.nearFlags)) continue;
        }
        let found = detectOnce(rule);
        if (found.length > 0 && rule.required && rule.required.length > 0) {
          found = withRequired(rule.required, found, (id) => {
            const r = rulesById.get(id);
            // a component runs whatever its keywords and skipReport say (as gitleaks)
            return r ? detectOnce(r) : [];
          });
        }
        for (const f of found) emit(f.finding, f.start, f.end);
      }
      if (depth === 0 && options.onFacts && !region) textFlags = present.slice();
      if (depth >= depthLimit) break;
      const next = decoder.next(passText, segments);
      if (depth === 0) encoded = next.decodable;
      if (next.exhausted) decodedFlags = undefined;
      if (decodedFlags) addDecodedLineFlags(index, next.text, next.segments, decodedFlags);
      if (next.segments.length === 0) break;
      if (
        counts &&
        !(
          index.countNear(
            passText,
            next.segments.map((s) => s.encoded),
            counts,
            -1,
          ) &&
          index.countNear(
            next.text,
            next.segments.map((s) => s.decoded),
            counts,
            1,
          )
        )
      ) {
        counts = undefined;
      }
      passText = next.text;
      segments = next.segments;
      decodedRanges = segments.map((s) => s.decoded);
    }
    const shown = withoutGenericOverlaps(spans);
    for (const f of shown) if (!suppressed.has(f)) out.push(f);
    if (options.onFacts && textFlags) {
      const hidesGenerics = shown.length < spans.length;
      options.onFacts({
        flags: textFlags,
        encoded,
        decodedFlags,
        touchingOnly: region !== undefined,
        // around the changes: a window's match may make the whole text's count of a rule's matches the parent's and more
        limited: region ? limited || matchedAround : limited,
        hidesGenerics: hidesGenerics || (region !== undefined && (region.hides || spans.length > 0)),
        unboundedHides: hidesGenerics && spans.some((s) => !s.generic && unboundedRule(s.finding.RuleID)),
      });
    }
  }

  /** Whether the rule of that id may match more than {@link REGION_MAX_NEWLINES} newlines. */
  function unboundedRule(id: string): boolean {
    const rule = rulesById.get(id);
    const r = rule === undefined ? undefined : ruleIndex.get(rule);
    return r === undefined || factsAt(r).newlines > REGION_MAX_NEWLINES;
  }
}

/** Lines of decoded values closer than this are read as one stretch (with the lines between them). */
const DECODED_LINES_GAP = 4096;

/**
 * Adds to `flags` the keyword flags of the lines of a decoding pass's `text`
 * that hold one of `segments`' decoded values (sorted), and of the lines
 * between two of them that lie close: one read per stretch, however many
 * values it holds.
 */
function addDecodedLineFlags(
  index: KeywordIndex,
  text: string,
  segments: readonly EncodedSegment[],
  flags: Uint8Array,
): void {
  let from = -1;
  let to = -1;
  const flush = () => {
    if (to <= from) return;
    const found = index.flagsIn(text.slice(from, to));
    for (let k = 0; k < flags.length; k += 1) flags[k] = (flags[k] as number) | (found[k] as number);
  };
  for (const s of segments) {
    if (s.decoded.end <= to) continue;
    const start = text.lastIndexOf('\n', s.decoded.start - 1) + 1;
    const nl = text.indexOf('\n', Math.max(start, s.decoded.end));
    const end = nl === -1 ? text.length : nl;
    if (from >= 0 && start - to <= DECODED_LINES_GAP) {
      to = Math.max(to, end);
      continue;
    }
    flush();
    from = start;
    to = end;
  }
  flush();
}

/**
 * Where any of the keywords `ids` occurs, as sorted, disjoint ranges (places
 * that overlap or touch are one range).
 *
 * @internal the scan's, exported for its tests
 */
export function placesOf(ids: Int32Array, keywords: readonly string[], occurrences: KeywordOccurrences): TextRange[] {
  // each keyword's places are in ascending order: merged across the rule's keywords (a few) as they are read,
  // and an overlapping place widens the last range instead of making a new one. No sort, no garbage per place:
  // a text made of one keyword has as many places as it has keywords.
  const cursors: { at: number; end: number; length: number }[] = [];
  for (const id of ids) {
    if (id < 0) continue;
    const at = occurrences.offsets[id] as number;
    const end = occurrences.offsets[id + 1] as number;
    if (at < end) cursors.push({ at, end, length: (keywords[id] as string).length });
  }
  const out: { start: number; end: number }[] = [];
  let last: { start: number; end: number } | undefined;
  for (;;) {
    let pick: { at: number; end: number; length: number } | undefined;
    let pickStart = 0;
    for (const c of cursors) {
      if (c.at >= c.end) continue;
      const start = occurrences.starts[c.at] as number;
      if (pick === undefined || start < pickStart) {
        pick = c;
        pickStart = start;
      }
    }
    if (pick === undefined) return out;
    pick.at += 1;
    const end = pickStart + pick.length;
    if (last !== undefined && pickStart <= last.end) {
      if (end > last.end) last.end = end;
    } else {
      last = { start: pickStart, end };
      out.push(last);
    }
  }
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
