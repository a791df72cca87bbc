export type { InboundEvent, WebhookReceipt } from './inbound.js';
