/**
 * `@conveyor/adapter-gitea`: the Gitea (and Forgejo) forge — a REST client
 * implementing core's `Forge` port and a webhook receiver implementing
 * `WebhookReceiver`.
 *
 * @packageDocumentation
 */
export { createGiteaForge, type GiteaForge, type GiteaForgeOptions, worstState } from './gitea-forge.js';
export { createGiteaWebhook, type GiteaWebhookOptions, giteaEventName } from './gitea-webhook.js';
export { buildMergeBody, MERGE_FIELD_NAMES, type MergeFieldStyle } from './merge-options.js';
export { parseRepo, type RepoRef } from './repo-ref.js';
