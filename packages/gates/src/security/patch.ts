/** One commit of a `git log -p -U0` stream. */
export interface PatchCommit {
  readonly sha: string;
  readonly parents: readonly string[];
  readonly author: string;
  readonly email: string;
  readonly date: string;
  readonly message: string;
}

/** The lines one commit added to one file, with their line numbers in the new file. */
export interface PatchFragment {
  readonly commit: PatchCommit;
  readonly file: string;
  readonly lines: readonly { readonly lineNo: number; readonly text: string }[];
}

/** What {@link parsePatchLog} found: fragments to scan and files it skipped (binary). */
export interface ParsedPatchLog {
  readonly commits: readonly PatchCommit[];
  readonly fragments: readonly PatchFragment[];
  /** `commit:file` of every binary file, skipped with a note */
  readonly binaryFiles: readonly string[];
}

/** The `--format` that {@link parsePatchLog} expects: a record-separated header per commit. */
export const PATCH_LOG_FORMAT = '--format=%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%B%x1e';

function unquotePath(raw: string): string {
  if (!raw.startsWith('"')) return raw;
  const body = raw.slice(1, raw.endsWith('"') ? -1 : undefined);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i += 1) {
    const c = body[i] as string;
    if (c !== '\\') {
      for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
      continue;
    }
    const next = body[i + 1] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(Number.parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
      continue;
    }
    const map: Record<string, string> = {
      n: '\n',
      t: '\t',
      '"': '"',
      '\\': '\\',
      a: '\x07',
      b: '\b',
      f: '\f',
      r: '\r',
      v: '\v',
    };
    for (const b of Buffer.from(map[next] ?? next, 'utf8')) bytes.push(b);
    i += 1;
  }
  return Buffer.from(bytes).toString('utf8');
}

function stripPrefix(path: string, prefix: string): string {
  const p = unquotePath(path);
  return p.startsWith(prefix) ? p.slice(prefix.length) : p;
}

/**
 * Parses the output of `git log -p -U0 --no-color --no-ext-diff --cc` run with
 * {@link PATCH_LOG_FORMAT} into the added lines per commit and file. Renames
 * are reported under the new path; binary files are listed, not scanned; for a
 * merge commit (combined diff) only lines new relative to every parent count,
 * so what a merge brought in from main is never blamed on the branch.
 *
 * @example
 * ```ts
 * const { fragments } = parsePatchLog(stdout);
 * ```
 */
export function parsePatchLog(text: string): ParsedPatchLog {
  const commits: PatchCommit[] = [];
  const fragments: PatchFragment[] = [];
  const binaryFiles: string[] = [];
  let commit: PatchCommit | undefined;
  let file: string | undefined;
  let diffPath: string | undefined;
  let lines: { lineNo: number; text: string }[] = [];
  let inHunk = false;
  let width = 1;
  let nextLine = 0;

  const flush = () => {
    if (commit && file && lines.length > 0) fragments.push({ commit, file, lines });
    lines = [];
  };

  let pos = 0;
  while (pos < text.length) {
    if (text.charCodeAt(pos) === 0x1e) {
      flush();
      const close = text.indexOf('\x1e', pos + 1);
      const header = text.slice(pos + 1, close === -1 ? text.length : close);
      const [sha = '', parents = '', author = '', email = '', date = '', ...msg] = header.split('\x1f');
      commit = {
        sha,
        parents: parents.split(' ').filter((p) => p !== ''),
        author,
        email,
        date,
        message: msg.join('\x1f').trim(),
      };
      commits.push(commit);
      file = undefined;
      diffPath = undefined;
      inHunk = false;
      pos = close === -1 ? text.length : close + 1;
      continue;
    }
    let eol = text.indexOf('\n', pos);
    if (eol === -1) eol = text.length;
    // hot path: an added or removed line inside a plain hunk
    if (inHunk && width === 1) {
      const c = text.charCodeAt(pos);
      if (c === 0x2b /* + */) {
        lines.push({ lineNo: nextLine, text: text.slice(pos + 1, eol) });
        nextLine += 1;
        pos = eol + 1;
        continue;
      }
      if (c === 0x2d /* - */ || c === 0x5c /* \ */) {
        pos = eol + 1;
        continue;
      }
    }
    const line = text.slice(pos, eol);
    pos = eol + 1;

    if (line.startsWith('diff --git ') || line.startsWith('diff --cc ') || line.startsWith('diff --combined ')) {
      flush();
      inHunk = false;
      file = undefined;
      if (line.startsWith('diff --git ')) {
        const rest = line.slice('diff --git '.length);
        const quoted = /("(?:[^"\\]|\\.)*")$/.exec(rest);
        if (quoted?.[1]) diffPath = stripPrefix(quoted[1], 'b/');
        else {
          const at = rest.lastIndexOf(' b/');
          diffPath = at === -1 ? undefined : rest.slice(at + 3);
        }
        width = 1;
      } else {
        diffPath = unquotePath(line.replace(/^diff --(?:cc|combined) /, ''));
        width = Math.max(2, commit?.parents.length ?? 2);
      }
      continue;
    }
    if (!inHunk) {
      if (line.startsWith('+++ ')) {
        const target = line.slice(4);
        file = target === '/dev/null' ? undefined : stripPrefix(target, 'b/');
      } else if (line.startsWith('rename to ')) {
        diffPath = unquotePath(line.slice('rename to '.length));
      } else if (line.startsWith('Binary files ') && line.endsWith(' differ')) {
        const target = diffPath ?? line;
        if (!line.includes(' and /dev/null differ')) binaryFiles.push(`${commit?.sha ?? ''}:${target}`);
      } else if (line.startsWith('@@')) {
        inHunk = true;
      }
      if (!line.startsWith('@@')) continue;
    }
    if (line.startsWith('@@')) {
      inHunk = true;
      if (file === undefined && diffPath !== undefined) file = diffPath;
      const m = /\+(\d+)(?:,\d+)? @@/.exec(line);
      nextLine = m ? Number(m[1]) : 0;
      continue;
    }
    if (line.startsWith('\\')) continue; // "\ No newline at end of file"
    const prefix = line.slice(0, width);
    const body = line.slice(width);
    if (prefix.length < width) continue;
    if (prefix.includes('-')) continue;
    if (width === 1) {
      if (prefix === '+') {
        lines.push({ lineNo: nextLine, text: body });
        nextLine += 1;
      } else if (prefix === ' ') {
        nextLine += 1;
      } else {
        inHunk = false;
      }
      continue;
    }
    if (/^[+ ]+$/.test(prefix)) {
      if (!prefix.includes(' ')) lines.push({ lineNo: nextLine, text: body });
      nextLine += 1;
    } else {
      inHunk = false;
    }
  }
  flush();
  return { commits, fragments, binaryFiles };
}
