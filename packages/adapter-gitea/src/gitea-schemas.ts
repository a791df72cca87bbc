import * as z from 'zod';

/** The five commit status states Gitea knows. */
export const commitStateSchema = z.enum(['pending', 'success', 'error', 'failure', 'warning']);

/** Gitea's `CommitStatus` (the state is in the field `status`). */
export const commitStatusSchema = z.object({
  status: commitStateSchema,
  context: z.string(),
  description: z.string().nullish(),
  target_url: z.string().nullish(),
  id: z.number().optional(),
});

/** Gitea's `CombinedStatus`; the state is empty when the commit has no status. */
export const combinedStatusSchema = z.object({
  sha: z.string().nullish(),
  state: z.union([commitStateSchema, z.literal('')]).nullish(),
  statuses: z.array(commitStatusSchema).nullish(),
  total_count: z.number().nullish(),
});

const prBranchSchema = z.object({
  ref: z.string(),
  sha: z.string(),
  label: z.string().nullish(),
});

/** Gitea's `PullRequest`, the fields the adapter reads. */
export const pullRequestSchema = z.object({
  number: z.number().int().positive(),
  state: z.enum(['open', 'closed']),
  merged: z.boolean().nullish(),
  mergeable: z.boolean().nullish(),
  merge_commit_sha: z.string().nullish(),
  title: z.string(),
  html_url: z.string().nullish(),
  base: prBranchSchema,
  head: prBranchSchema,
});

/** Gitea's `Compare`. */
export const compareSchema = z.object({
  total_commits: z.number().int().nonnegative().nullish(),
  commits: z.array(z.object({ sha: z.string() })).nullish(),
});

/** Gitea's `Branch`, the fields the adapter reads. */
export const branchSchema = z.object({
  name: z.string(),
  commit: z.object({ id: z.string() }).nullish(),
});

/** A page of branches. */
export const branchListSchema = z.array(branchSchema);

/** Formats zod issues as `path: message; …`, naming the field. */
export function describeIssues(error: z.ZodError, root: string): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      return `${path ? `${root}.${path}` : root}: ${issue.message}`;
    })
    .join('; ');
}
