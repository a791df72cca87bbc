import { createHash } from 'node:crypto';
import {
  ConveyorError,
  checkBodySize,
  DEFAULT_WEBHOOK_MAX_BYTES,
  err,
  getHeader,
  type InboundEvent,
  ok,
  parseJsonBody,
  type Result,
  verifyHmacSha256Hex,
  type WebhookReceipt,
  type WebhookReceiver,
  type WebhookRequest,
} from '@conveyor/core';
import type * as z from 'zod';
import {
  commentDataV1Schema,
  commentDataV2Schema,
  deletedDataSchema,
  describeZodError,
  issueDataV2Schema,
  planeIssueSchema,
  webhookV1Schema,
  webhookV2Schema,
} from './plane-schemas.js';
import { normaliseIssue, PLANE_PKG, projectOf, stateOf } from './plane-tracker.js';

/** Options of {@link createPlaneWebhook}. Frozen on creation. */
export interface PlaneWebhookOptions {
  /**
   * The webhook secret, then optionally the previous one while a rotation is
   * under way. A delivery signed with either is accepted; with no non-empty
   * secret every delivery is refused (`invalid_config`).
   */
  readonly secrets: readonly [string, string?] | readonly string[];
  /** larger bodies are refused with `too_large` before any hashing; default 1 MiB */
  readonly maxBodyBytes?: number;
  /**
   * The Plane project uuid this receiver serves. Deliveries about another
   * project are ignored (explicitly, with a reason); it also fills
   * `project` when a delivery does not name one (Plane sends only `{id}` on
   * `deleted`).
   */
  readonly project?: string;
}

/** `ignored` events carry the reason. */
type ReceiptEvent = WebhookReceipt['event'];

/**
 * Creates a `WebhookReceiver` for Plane webhooks. The order is fixed:
 * size limit, then `X-Plane-Signature` (hex HMAC-SHA256 of the RAW body, in
 * constant time, current or previous secret), then JSON, then zod, then the
 * normalised event. Never throws.
 *
 * Both payload generations are understood:
 * - **v1** (open-source Plane): `{event, action, webhook_id, workspace_id, data, activity}`,
 *   `action` `created|updated|deleted` (older docs: `create|update|delete`), one
 *   `updated` delivery per changed field.
 * - **v2** (`"version": "v2"`, Plane's hosted edition): `workitem.created|updated|deleted`,
 *   `workitem.comment.created|updated` (also the enum spelling
 *   `WebhookScope.ScopeChoices.WORK_ITEM_UPDATED` the docs show).
 *
 * Events: `issue` → `tracker.issue` (`created`/`updated`) or `tracker.issue_deleted`;
 * `issue_comment` created/updated → `tracker.comment`; anything else (projects,
 * cycles, modules, deleted comments…) → `{ kind: 'ignored', reason }`.
 *
 * **State names.** A v1 delivery carries the expanded state (`data.state.name`),
 * so `issue.state` is the name. A v2 delivery carries only `state_id`: then
 * `issue.state` equals `issue.stateId` (the uuid), and the host resolves the
 * name with `PlaneTracker.stateName(issue.stateId)` (or re-reads the issue with
 * `getIssue`) before comparing it with stage names.
 *
 * **Delivery ids.** `deliveryId` is `X-Plane-Delivery` (v2 falls back to the
 * body's `delivery_id`). Plane makes a fresh id for every attempt, so a retried
 * delivery has a new id but the same bytes: hosts that must also drop retries
 * record {@link planeDeliveryFingerprint} too.
 *
 * @example
 * ```ts
 * const plane = createPlaneWebhook({ secrets: [process.env.PLANE_WEBHOOK_SECRET ?? ''] });
 * const received = plane.receive({ headers: req.headers, rawBody });
 * if (!received.ok) return res.writeHead(webhookErrorStatus(received.error)).end(received.error.message);
 * await store.recordDelivery(received.value.deliveryId);
 * if (received.value.event.kind !== 'ignored') await pipeline.handle(received.value.event);
 * ```
 */
export function createPlaneWebhook(options: PlaneWebhookOptions): WebhookReceiver {
  const opts = Object.freeze({
    ...options,
    secrets: Object.freeze(
      (options.secrets as readonly (string | undefined)[]).filter((s): s is string => typeof s === 'string'),
    ),
  });
  const maxBytes = opts.maxBodyBytes ?? DEFAULT_WEBHOOK_MAX_BYTES;

  return Object.freeze({
    receive(request: WebhookRequest): Result<WebhookReceipt, ConveyorError> {
      try {
        return receive(request);
      } catch (thrown) {
        // Defence in depth: the steps below do not throw, but a receiver must never.
        return err(
          new ConveyorError(PLANE_PKG, 'internal', `the Plane webhook could not be read: ${String(thrown)}`, {
            cause: thrown,
          }),
        );
      }
    },
  });

  function receive(request: WebhookRequest): Result<WebhookReceipt, ConveyorError> {
    const raw = request.rawBody;
    if (!(raw instanceof Uint8Array)) return invalid('the webhook body is not raw bytes');
    const sized = checkBodySize(raw, maxBytes, PLANE_PKG);
    if (!sized.ok) return err(sized.error);
    const verified = verifyHmacSha256Hex(raw, getHeader(request.headers, 'x-plane-signature'), opts.secrets, PLANE_PKG);
    if (!verified.ok) return err(verified.error);
    const json = parseJsonBody(raw, PLANE_PKG);
    if (!json.ok) return err(json.error);
    const body = json.value;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return invalid('the webhook body is not a JSON object');
    }
    const headerEvent = getHeader(request.headers, 'x-plane-event')?.trim();
    const headerDelivery = getHeader(request.headers, 'x-plane-delivery')?.trim();
    const version = (body as { version?: unknown }).version;
    if (version !== undefined && version !== 'v1') {
      if (version !== 'v2') {
        return invalid(`the webhook body's version ${JSON.stringify(version)} is not v1 or v2`);
      }
      return receiveV2(body, headerEvent, headerDelivery);
    }
    return receiveV1(body, headerEvent, headerDelivery);
  }

  function receiveV1(
    body: object,
    headerEvent: string | undefined,
    headerDelivery: string | undefined,
  ): Result<WebhookReceipt, ConveyorError> {
    const envelope = webhookV1Schema.safeParse(body);
    if (!envelope.success) return invalidZod(envelope.error, 'the Plane v1 webhook');
    const { event, data } = envelope.data;
    if (!headerDelivery) return invalid('the X-Plane-Delivery header is missing');
    const eventName = headerEvent || event;
    const action = V1_ACTIONS[envelope.data.action];
    const receipt = (ev: ReceiptEvent): Result<WebhookReceipt, ConveyorError> =>
      ok({ deliveryId: headerDelivery, eventName, event: ev });

    if (event !== 'issue' && event !== 'issue_comment') {
      return receipt(ignored(`Plane "${event}" events are not handled`));
    }
    if (!action) {
      return receipt(ignored(`Plane ${event} action "${envelope.data.action}" is not handled`));
    }
    if (event === 'issue') {
      if (action === 'deleted') {
        const parsed = deletedDataSchema.safeParse(data);
        if (!parsed.success) return invalidZod(parsed.error, 'the deleted issue', 'data');
        return scoped(
          undefined,
          (project) => ({
            kind: 'tracker.issue_deleted',
            project,
            issueId: parsed.data.id,
          }),
          receipt,
        );
      }
      const parsed = planeIssueSchema.safeParse(data);
      if (!parsed.success) return invalidZod(parsed.error, 'the issue', 'data');
      const issue = parsed.data;
      const { stateId, name } = stateOf(issue);
      const stateName = name ?? stateId ?? '';
      return scoped(
        projectOf(issue),
        (p) => ({
          kind: 'tracker.issue',
          action,
          issue: normaliseIssue(issue, { project: p, state: stateName, ...(stateId ? { stateId } : {}) }),
        }),
        receipt,
      );
    }
    if (action === 'deleted') return receipt(ignored('a deleted Plane comment has nothing to act on'));
    const parsed = commentDataV1Schema.safeParse(data);
    if (!parsed.success) return invalidZod(parsed.error, 'the comment', 'data');
    const comment = parsed.data;
    return scoped(
      comment.project ?? undefined,
      (project) => ({
        kind: 'tracker.comment',
        project,
        issueId: comment.issue,
        html: comment.comment_html,
      }),
      receipt,
    );
  }

  function receiveV2(
    body: object,
    headerEvent: string | undefined,
    headerDelivery: string | undefined,
  ): Result<WebhookReceipt, ConveyorError> {
    const envelope = webhookV2Schema.safeParse(body);
    if (!envelope.success) return invalidZod(envelope.error, 'the Plane v2 webhook');
    const deliveryId = headerDelivery || envelope.data.delivery_id;
    if (!deliveryId) return invalid('the X-Plane-Delivery header is missing and the body has no delivery_id');
    const eventName = headerEvent || envelope.data.event;
    const receipt = (ev: ReceiptEvent): Result<WebhookReceipt, ConveyorError> =>
      ok({ deliveryId, eventName, event: ev });
    const kind = V2_EVENTS[compactEventName(envelope.data.event)];
    if (!kind) return receipt(ignored(`Plane v2 "${envelope.data.event}" events are not handled`));
    // v2 writes Python's None as the string "None".
    const data = Object.fromEntries(Object.entries(envelope.data.data).map(([k, v]) => [k, v === 'None' ? null : v]));

    if (kind === 'issue.deleted') {
      const parsed = deletedDataSchema.safeParse(data);
      if (!parsed.success) return invalidZod(parsed.error, 'the deleted work item', 'data');
      const project = typeof data.project_id === 'string' ? data.project_id : undefined;
      return scoped(project, (p) => ({ kind: 'tracker.issue_deleted', project: p, issueId: parsed.data.id }), receipt);
    }
    if (kind === 'comment') {
      const parsed = commentDataV2Schema.safeParse(data);
      if (!parsed.success) return invalidZod(parsed.error, 'the work item comment', 'data');
      const { comment } = parsed.data;
      const html =
        comment.comment_html ?? (comment.comment_stripped ? `<p>${escapeHtml(comment.comment_stripped)}</p>` : '');
      return scoped(
        parsed.data.project_id ?? undefined,
        (project) => ({
          kind: 'tracker.comment',
          project,
          issueId: comment.issue_id ?? parsed.data.id,
          html,
        }),
        receipt,
      );
    }
    const parsed = issueDataV2Schema.safeParse(data);
    if (!parsed.success) return invalidZod(parsed.error, 'the work item', 'data');
    const issue = parsed.data;
    const { stateId, name } = stateOf(issue);
    const stateName = name ?? stateId ?? '';
    return scoped(
      issue.project_id ?? undefined,
      (project) => ({
        kind: 'tracker.issue',
        action: kind === 'issue.created' ? 'created' : 'updated',
        issue: normaliseIssue(issue, { project, state: stateName, ...(stateId ? { stateId } : {}) }),
      }),
      receipt,
    );
  }

  /** Applies the `project` option: another project's delivery is ignored; a missing one is filled in. */
  function scoped(
    project: string | undefined,
    build: (project: string) => InboundEvent,
    receipt: (ev: ReceiptEvent) => Result<WebhookReceipt, ConveyorError>,
  ): Result<WebhookReceipt, ConveyorError> {
    if (opts.project !== undefined && project !== undefined && project !== opts.project) {
      return receipt(ignored(`the delivery is about Plane project ${project}, not ${opts.project}`));
    }
    return receipt(build(project ?? opts.project ?? ''));
  }
}

const V1_ACTIONS: Readonly<Record<string, 'created' | 'updated' | 'deleted' | undefined>> = Object.freeze({
  created: 'created',
  create: 'created',
  updated: 'updated',
  update: 'updated',
  deleted: 'deleted',
  delete: 'deleted',
});

type V2Kind = 'issue.created' | 'issue.updated' | 'issue.deleted' | 'comment';

/** Keyed by the event name lower-cased without `.`/`_`, so `workitem.updated` and `WORK_ITEM_UPDATED` meet. */
const V2_EVENTS: Readonly<Record<string, V2Kind | undefined>> = Object.freeze({
  workitemcreated: 'issue.created',
  workitemupdated: 'issue.updated',
  workitemdeleted: 'issue.deleted',
  workitemcommentcreated: 'comment',
  workitemcommentupdated: 'comment',
  issuecreated: 'issue.created',
  issueupdated: 'issue.updated',
  issuedeleted: 'issue.deleted',
  issuecommentcreated: 'comment',
  issuecommentupdated: 'comment',
});

function compactEventName(event: string): string {
  return event
    .replace(/^WebhookScope\.ScopeChoices\./, '')
    .toLowerCase()
    .replace(/[._\s-]/g, '');
}

function ignored(reason: string): ReceiptEvent {
  return { kind: 'ignored', reason };
}

function invalid(message: string): Result<WebhookReceipt, ConveyorError> {
  return err(new ConveyorError(PLANE_PKG, 'invalid_input', message));
}

function invalidZod(error: z.ZodError, what: string, root = 'body'): Result<WebhookReceipt, ConveyorError> {
  return err(
    new ConveyorError(PLANE_PKG, 'invalid_input', `${what} is malformed: ${describeZodError(error, root)}`, {
      details: { fields: error.issues.map((i) => i.path.join('.')) },
    }),
  );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A stable key for one Plane delivery's content: the hex SHA-256 of the raw
 * body. Plane gives every retry of a delivery a fresh `X-Plane-Delivery`, but
 * the same bytes, so a host that records this key as well (e.g.
 * `store.recordDelivery(\`plane:${fingerprint}\`)`) also drops retried
 * deliveries. Call it only after `receive` succeeded.
 *
 * @example
 * ```ts
 * const received = plane.receive({ headers: req.headers, rawBody });
 * if (received.ok) await store.recordDelivery(`plane:${planeDeliveryFingerprint(rawBody)}`);
 * ```
 */
export function planeDeliveryFingerprint(rawBody: Uint8Array): string {
  return createHash('sha256').update(rawBody).digest('hex');
}
