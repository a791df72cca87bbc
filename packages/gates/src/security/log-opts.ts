import { ConveyorError, err, ok, type Result } from '@conveyor/core';

const PKG = '@conveyor/gates';

/**
 * git options that run a command, write a file or read another repository or
 * configuration: refused in `--log-opts` with a message that says so.
 */
const DANGEROUS = [
  '--output',
  '--output-directory',
  '--ext-diff',
  '--textconv',
  '--exec',
  '--upload-pack',
  '--receive-pack',
  '--config',
  '--config-env',
  '--git-dir',
  '--work-tree',
  '--namespace',
  '--open-files-in-pager',
  '--paginate',
  '--orderfile',
  '-O',
  '-c',
  '-C',
  '-p',
];

/** What `--log-opts` asked for, once validated. */
export interface LogOpts {
  /** the revision range (`BASE..HEAD`) when one was given */
  readonly range?: string;
}

const invalid = (message: string) =>
  err(new ConveyorError(PKG, 'invalid_input', `--log-opts: ${message}`, { details: { field: 'log-opts' } }));

/**
 * Validates gitleaks' `--log-opts` (split on whitespace, no shell): options
 * that can run commands or write files (`--output`, `--ext-diff`,
 * `--textconv`, `--exec`, `-c`, …) are refused, other options are refused as
 * not supported (the scan builds its own `git log` from a verified range, so
 * nothing else reaches git), and at most one revision range `BASE..HEAD` is
 * accepted: it is the range scanned.
 *
 * @example
 * ```ts
 * parseLogOpts('origin/main..HEAD'); // ok({ range: 'origin/main..HEAD' })
 * parseLogOpts('--output=/tmp/x'); // err: can write files
 * ```
 */
export function parseLogOpts(text: string): Result<LogOpts, ConveyorError> {
  if (/["'`$\\]/.test(text)) return invalid('quotes, `$` and backslashes are not accepted (no shell reads it)');
  const tokens = text.split(/\s+/).filter((t) => t !== '');
  let range: string | undefined;
  for (const t of tokens) {
    if (t.startsWith('-')) {
      const name = t.startsWith('--') ? (t.split('=', 1)[0] as string) : t.slice(0, 2);
      if (DANGEROUS.includes(name)) return invalid(`option ${name} is refused: it can run commands or write files`);
      return invalid(`option ${name} is not supported (give a revision range BASE..HEAD)`);
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters in a revision are refused on purpose
    if (/[\u0000-\u001f\u007f]/.test(t) || !t.includes('..') || t.startsWith('.')) {
      return invalid(
        `'${t.slice(0, 80)}' is not a revision range BASE..HEAD (a single revision has no base to scan from)`,
      );
    }
    if (range !== undefined) return invalid('more than one revision range');
    range = t;
  }
  return ok(range === undefined ? {} : { range });
}
