export {
  type DeliveryOutcome,
  deliveryOutcomeStatus,
  type HandleDelivery,
  handleDelivery,
} from './delivery.js';
export {
  createHttpClient,
  type HttpClient,
  type HttpClientOptions,
  type HttpRequest,
  type HttpResponse,
  IDEMPOTENT_METHODS,
  mayRepeat,
  retryAfterMs,
} from './http-client.js';
export {
  checkBodySize,
  DEFAULT_WEBHOOK_MAX_BYTES,
  getHeader,
  parseJsonBody,
  readRawBody,
  verifyHmacSha256Hex,
  type WebhookHeaders,
  type WebhookReceiver,
  type WebhookRequest,
  webhookErrorStatus,
} from './webhook.js';
