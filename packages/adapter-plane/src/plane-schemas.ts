import * as z from 'zod';

/**
 * A state as an issue carries it: a uuid string (the default), an expanded
 * object (`?expand=state`, and in webhook deliveries), or null.
 */
const stateRefSchema = z.union([
  z.string(),
  z.object({ id: z.string().min(1), name: z.string().optional(), group: z.string().optional() }),
]);

/** A project reference: the uuid, or an expanded object. */
const projectRefSchema = z.union([z.string(), z.object({ id: z.string().min(1) })]);

/**
 * The fields of a Plane issue (work item) the adapter reads. The REST API,
 * `?expand=state` answers and v1 webhook `data` all fit it; unknown keys are
 * dropped.
 */
export const planeIssueSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  project: projectRefSchema.nullish(),
  project_id: z.string().nullish(),
  sequence_id: z.number().int().nullish(),
  description_html: z.string().nullish(),
  description_stripped: z.string().nullish(),
  // The docs show a string here; the real API may send a rich-text object, so only a string is used.
  description: z.unknown().optional(),
  state: stateRefSchema.nullish(),
  state_id: z.string().nullish(),
  updated_at: z.string().nullish(),
});

/** A Plane issue as the adapter reads it. */
export type PlaneIssueBody = z.infer<typeof planeIssueSchema>;

/** One state of a project (`GET states/`). */
export const planeStateSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  group: z.string().nullish(),
  color: z.string().nullish(),
  sequence: z.number().nullish(),
});

/**
 * Plane's paginated envelope (`apps/api/plane/utils/paginator.py`): only the
 * keys the adapter relies on are required.
 */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    next_cursor: z.string().nullish(),
    next_page_results: z.boolean(),
    results: z.array(item),
  });
}

/** Any answer that carries the created/updated object's id. */
export const withIdSchema = z.object({ id: z.string().min(1) });

/** The v1 webhook envelope built in `webhook_task.py`. */
export const webhookV1Schema = z.object({
  event: z.string().min(1),
  action: z.string().min(1),
  webhook_id: z.string(),
  workspace_id: z.string(),
  data: z.record(z.string(), z.unknown()),
  activity: z.record(z.string(), z.unknown()).nullish(),
});

/** `data` of a v1 `deleted` delivery: only the id. */
export const deletedDataSchema = z.object({ id: z.string().min(1) });

/** `data` of a v1 `issue_comment` delivery (the comment serializer's output). */
export const commentDataV1Schema = z.object({
  id: z.string().min(1),
  issue: z.string().min(1),
  comment_html: z.string(),
  project: z.string().nullish(),
});

/** The v2 webhook envelope (Plane's hosted edition; see the docs' payload examples). */
export const webhookV2Schema = z.object({
  version: z.string(),
  delivery_id: z.string().min(1).optional(),
  event: z.string().min(1),
  entity_type: z.string().optional(),
  entity_id: z.string().optional(),
  webhook_id: z.string().optional(),
  workspace_id: z.string().optional(),
  data: z.record(z.string(), z.unknown()),
  previous_attributes: z.record(z.string(), z.unknown()).nullish(),
});

/** `data` of a v2 `workitem.*` delivery. */
export const issueDataV2Schema = z.object({
  id: z.string().min(1),
  name: z.string(),
  project_id: z.string().nullish(),
  sequence_id: z.number().int().nullish(),
  state_id: z.string().nullish(),
  state: stateRefSchema.nullish(),
  description_html: z.string().nullish(),
  description_stripped: z.string().nullish(),
  updated_at: z.string().nullish(),
});

/** `data` of a v2 `workitem.comment.*` delivery. */
export const commentDataV2Schema = z.object({
  id: z.string().min(1),
  project_id: z.string().nullish(),
  comment: z.object({
    id: z.string().min(1),
    issue_id: z.string().min(1).nullish(),
    comment_html: z.string().nullish(),
    comment_stripped: z.string().nullish(),
  }),
});

/** Describes a zod failure as `path: message` pairs, naming each field that was wrong. */
export function describeZodError(error: z.ZodError, root: string): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.reduce<string>(
        (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`),
        root,
      );
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}
