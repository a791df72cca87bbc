import type { MergeRequest } from '@conveyor/core';

/**
 * Which spelling of the merge options to send. Gitea 1.22 reads `Do`,
 * `MergeTitleField`, `MergeMessageField`, `MergeCommitID`; newer Gitea and
 * Forgejo read `do`, `merge_title_field`, `merge_message_field`,
 * `merge_commit_id`. `both` sends every key twice (each server ignores the
 * spelling it does not know). `head_commit_id`, `delete_branch_after_merge`
 * and `force_merge` are spelled the same everywhere.
 */
export type MergeFieldStyle = 'v1.22' | 'modern' | 'both';

/** The merge option keys, by style. */
export const MERGE_FIELD_NAMES = Object.freeze({
  'v1.22': Object.freeze({ do: 'Do', title: 'MergeTitleField', message: 'MergeMessageField' }),
  modern: Object.freeze({ do: 'do', title: 'merge_title_field', message: 'merge_message_field' }),
});

/**
 * Builds the body of `POST /repos/{owner}/{repo}/pulls/{index}/merge`.
 *
 * @example
 * ```ts
 * buildMergeBody({ headSha: 'abc1234' }, 'v1.22'); // { Do: 'merge', head_commit_id: 'abc1234' }
 * ```
 */
export function buildMergeBody(input: MergeRequest, style: MergeFieldStyle): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const styles = style === 'both' ? (['v1.22', 'modern'] as const) : ([style] as const);
  for (const s of styles) {
    const names = MERGE_FIELD_NAMES[s];
    body[names.do] = input.method ?? 'merge';
    if (input.title !== undefined) body[names.title] = input.title;
    if (input.message !== undefined) body[names.message] = input.message;
  }
  body.head_commit_id = input.headSha;
  if (input.deleteBranchAfterMerge !== undefined) body.delete_branch_after_merge = input.deleteBranchAfterMerge;
  return body;
}
