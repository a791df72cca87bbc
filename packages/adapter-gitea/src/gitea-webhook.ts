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
import * as z from 'zod';
import { commitStateSchema, describeIssues } from './gitea-schemas.js';
import { PKG } from './repo-ref.js';

/** Options of {@link createGiteaWebhook}. Frozen on creation. */
export interface GiteaWebhookOptions {
  /** the webhook secret; several during a rotation (the current one first) */
  readonly secrets: readonly string[];
  /** bodies over this many bytes are refused with `too_large`; default 1 MiB */
  readonly maxBodyBytes?: number;
}

const repositorySchema = z.object({ full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'must be "owner/name"') });

const pushSchema = z.object({
  ref: z.string().min(1),
  after: z.string(),
  repository: repositorySchema,
});

const prBranchSchema = z.object({ ref: z.string().min(1), sha: z.string().min(1) });

const pullRequestEventSchema = z.object({
  action: z.string().min(1),
  number: z.number().int().positive().optional(),
  pull_request: z.object({
    number: z.number().int().positive(),
    merged: z.boolean().nullish(),
    base: prBranchSchema,
    head: prBranchSchema,
  }),
  repository: repositorySchema,
});

const statusEventSchema = z.object({
  sha: z.string().min(1),
  context: z.string(),
  state: commitStateSchema,
  repository: repositorySchema,
  // Gitea does not send `branches`; GitHub-shaped senders do.
  branches: z.array(z.object({ name: z.string() })).nullish(),
});

const workflowRunEventSchema = z.object({
  action: z.string().optional(),
  workflow_run: z.object({
    head_sha: z.string().nullish(),
    head_branch: z.string().nullish(),
    status: z.string().min(1),
    conclusion: z.string().nullish(),
  }),
  repository: repositorySchema,
});

const PR_ACTIONS = new Set(['opened', 'closed', 'reopened', 'synchronized', 'edited']);
const ZERO_SHA = /^0+$/;

/**
 * The event name of a delivery: `X-Gitea-Event` (or `X-Forgejo-Event`), and
 * when that is empty — Gitea 1.23 sends an empty one for status hooks — the
 * `X-Gitea-Event-Type` (or `X-Forgejo-Event-Type`).
 *
 * @example
 * ```ts
 * giteaEventName({ 'x-gitea-event': '', 'x-gitea-event-type': 'status' }); // 'status'
 * ```
 */
export function giteaEventName(headers: WebhookRequest['headers']): string {
  for (const name of [
    'x-gitea-event',
    'x-forgejo-event',
    'x-gitea-event-type',
    'x-forgejo-event-type',
    'x-gogs-event',
  ]) {
    const value = getHeader(headers, name)?.trim();
    if (value) return value;
  }
  return '';
}

/**
 * Creates the Gitea (and Forgejo) webhook receiver. Order: size check, then
 * the `X-Gitea-Signature` (or `X-Forgejo-Signature`) hex HMAC-SHA256 over the
 * RAW bytes against every configured secret, then JSON, then zod, then the
 * normalised event. Push (branches only), pull request (a merge is `closed`
 * with `merged: true`), status and workflow run become events; anything else
 * is `{ kind: 'ignored', reason }`. The receipt carries `X-Gitea-Delivery`
 * for idempotency (a body hash when the sender gave none).
 *
 * @example
 * ```ts
 * const webhook = createGiteaWebhook({ secrets: [process.env.GITEA_WEBHOOK_SECRET ?? ''] });
 * const received = webhook.receive({ headers: req.headers, rawBody });
 * if (!received.ok) res.writeHead(webhookErrorStatus(received.error)).end(received.error.message);
 * else if (received.value.event.kind !== 'ignored') await pipeline.handle(received.value.event);
 * ```
 */
export function createGiteaWebhook(options: GiteaWebhookOptions): WebhookReceiver {
  const opts = Object.freeze({
    secrets: Object.freeze([...options.secrets]),
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_WEBHOOK_MAX_BYTES,
  });
  return Object.freeze({
    receive(request: WebhookRequest): Result<WebhookReceipt, ConveyorError> {
      try {
        return receive(request, opts);
      } catch (thrown) {
        // A receiver never throws; reaching this is a bug, reported as such.
        return err(
          new ConveyorError(PKG, 'internal', `the Gitea webhook parser failed: ${String(thrown)}`, { cause: thrown }),
        );
      }
    },
  });
}

function receive(
  request: WebhookRequest,
  opts: { secrets: readonly string[]; maxBodyBytes: number },
): Result<WebhookReceipt, ConveyorError> {
  const { headers, rawBody } = request;
  const sized = checkBodySize(rawBody, opts.maxBodyBytes, PKG);
  if (!sized.ok) return err(sized.error);
  const signature =
    getHeader(headers, 'x-gitea-signature') ??
    getHeader(headers, 'x-forgejo-signature') ??
    getHeader(headers, 'x-hub-signature-256');
  const verified = verifyHmacSha256Hex(rawBody, signature, opts.secrets, PKG);
  if (!verified.ok) return err(verified.error);
  const json = parseJsonBody(rawBody, PKG);
  if (!json.ok) return err(json.error);
  const eventName = giteaEventName(headers);
  const deliveryId =
    getHeader(headers, 'x-gitea-delivery')?.trim() ||
    getHeader(headers, 'x-forgejo-delivery')?.trim() ||
    `sha256:${createHash('sha256').update(rawBody).digest('hex')}`;
  if (json.value === null || typeof json.value !== 'object' || Array.isArray(json.value)) {
    return err(new ConveyorError(PKG, 'invalid_input', `the ${eventName || 'webhook'} body is not a JSON object`));
  }
  const event = normalise(eventName, json.value);
  if (!event.ok) return err(event.error);
  return ok({ deliveryId, eventName, event: event.value });
}

function normalise(eventName: string, body: unknown): Result<WebhookReceipt['event'], ConveyorError> {
  switch (eventName) {
    case 'push': {
      const p = parse(pushSchema, body, 'push');
      if (!p.ok) return err(p.error);
      if (!p.value.ref.startsWith('refs/heads/')) return ok(ignored(`push to ${p.value.ref} is not a branch`));
      if (ZERO_SHA.test(p.value.after)) return ok(ignored(`push deleted ${p.value.ref}`));
      const event: InboundEvent = {
        kind: 'forge.push',
        repo: p.value.repository.full_name,
        branch: p.value.ref.slice('refs/heads/'.length),
        sha: p.value.after,
      };
      return ok(event);
    }
    case 'pull_request':
    case 'pull_request_sync': {
      const p = parse(pullRequestEventSchema, body, eventName);
      if (!p.ok) return err(p.error);
      const pr = p.value.pull_request;
      const action = p.value.action === 'synchronize' ? 'synchronized' : p.value.action;
      const event: InboundEvent = {
        kind: 'forge.pull_request',
        repo: p.value.repository.full_name,
        number: pr.number,
        action: PR_ACTIONS.has(action)
          ? (action as 'opened' | 'closed' | 'reopened' | 'synchronized' | 'edited')
          : 'other',
        merged: pr.merged === true,
        base: pr.base.ref,
        head: pr.head.ref,
        headSha: pr.head.sha,
      };
      return ok(event);
    }
    case 'status': {
      const p = parse(statusEventSchema, body, 'status');
      if (!p.ok) return err(p.error);
      const branches = p.value.branches?.map((b) => b.name);
      const event: InboundEvent = {
        kind: 'forge.status',
        repo: p.value.repository.full_name,
        sha: p.value.sha,
        context: p.value.context,
        state: p.value.state,
        ...(branches && branches.length > 0 ? { branches } : {}),
      };
      return ok(event);
    }
    case 'workflow_run': {
      const p = parse(workflowRunEventSchema, body, 'workflow_run');
      if (!p.ok) return err(p.error);
      const run = p.value.workflow_run;
      const event: InboundEvent = {
        kind: 'forge.workflow_run',
        repo: p.value.repository.full_name,
        status: run.status,
        ...(run.head_sha ? { sha: run.head_sha } : {}),
        ...(run.head_branch ? { branch: run.head_branch } : {}),
        ...(run.conclusion ? { conclusion: run.conclusion } : {}),
      };
      return ok(event);
    }
    case '':
      return ok(ignored('the delivery names no event (no X-Gitea-Event nor X-Gitea-Event-Type header)'));
    default:
      return ok(ignored(`Gitea event "${eventName}" is not one Conveyor acts on`));
  }
}

function ignored(reason: string): { readonly kind: 'ignored'; readonly reason: string } {
  return { kind: 'ignored', reason };
}

function parse<S extends z.ZodType>(schema: S, body: unknown, event: string): Result<z.infer<S>, ConveyorError> {
  const result = schema.safeParse(body);
  if (result.success) return ok(result.data);
  return err(
    new ConveyorError(
      PKG,
      'invalid_input',
      `the ${event} webhook body is malformed: ${describeIssues(result.error, 'body')}`,
      {
        details: { event, fields: result.error.issues.map((i) => i.path.map(String).join('.')) },
      },
    ),
  );
}
