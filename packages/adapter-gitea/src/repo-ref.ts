import { ConveyorError, err, ok, type Result } from '@conveyor/core';

/** The package name used in every error this adapter raises. */
export const PKG = '@conveyor/adapter-gitea';

/** A repository named `owner/name`, split. */
export interface RepoRef {
  readonly owner: string;
  readonly name: string;
}

// Gitea's own rule for owner and repository names (alphanumerics, `-`, `_`, `.`).
const NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * Splits `owner/name` into its parts, refusing anything else with `invalid_input`.
 *
 * @example
 * ```ts
 * const ref = parseRepo('acme/web'); // ok({ owner: 'acme', name: 'web' })
 * ```
 */
export function parseRepo(repo: string): Result<RepoRef, ConveyorError> {
  const parts = typeof repo === 'string' ? repo.split('/') : [];
  const [owner, name] = parts;
  if (
    parts.length !== 2 ||
    owner === undefined ||
    name === undefined ||
    !NAME.test(owner) ||
    !NAME.test(name) ||
    owner === '.' ||
    owner === '..' ||
    name === '.' ||
    name === '..'
  ) {
    return err(
      new ConveyorError(
        PKG,
        'invalid_input',
        `repo must be "owner/name" (letters, digits, "-", "_", "."), got ${JSON.stringify(repo)}`,
        {
          details: { field: 'repo' },
        },
      ),
    );
  }
  return ok({ owner, name });
}

/** `repos/{owner}/{name}` with both parts URL-encoded. */
export function repoPath(ref: RepoRef): string {
  return `repos/${encodeURIComponent(ref.owner)}/${encodeURIComponent(ref.name)}`;
}

/** A branch name for a path: each `/`-separated segment encoded, the slashes kept (Gitea routes `{head}` as `*`). */
export function branchPath(branch: string): string {
  return branch.split('/').map(encodeURIComponent).join('/');
}

/** Refuses an empty or control-character branch name with `invalid_input` naming `field`. */
export function checkBranch(branch: string, field: string): Result<string, ConveyorError> {
  if (typeof branch !== 'string' || branch.length === 0 || hasForbiddenChar(branch) || branch.includes('..')) {
    return err(
      new ConveyorError(PKG, 'invalid_input', `${field} is not a valid branch name: ${JSON.stringify(branch)}`, {
        details: { field },
      }),
    );
  }
  return ok(branch);
}

/**
 * Refuses anything but a hex commit sha (7 to 64 digits; exactly 40 or 64 when
 * `full`) with `invalid_input` naming `field`.
 */
export function checkSha(sha: string, field: string, full = false): Result<string, ConveyorError> {
  const valid =
    typeof sha === 'string' && (full ? /^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/ : /^[0-9a-fA-F]{7,64}$/).test(sha);
  if (!valid) {
    const what = full ? 'a full (40 or 64 digit) hex commit sha' : 'a hex commit sha';
    return err(
      new ConveyorError(PKG, 'invalid_input', `${field} is not ${what}: ${JSON.stringify(sha)}`, {
        details: { field },
      }),
    );
  }
  return ok(sha.toLowerCase());
}

// git refuses these in a ref name (see git-check-ref-format).
function hasForbiddenChar(branch: string): boolean {
  for (const ch of branch) {
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code === 0x7f || ' ~^:?*[\\'.includes(ch)) return true;
  }
  return false;
}
