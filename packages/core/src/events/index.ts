export {
  type ConveyorEventBus,
  type ConveyorEventMap,
  type ConveyorEventName,
  type ConveyorListener,
  createEventBus,
  type EventBusOptions,
  type ListenerErrorHandler,
  type StagePosition,
} from './bus.js';
export type { InboundEvent, WebhookReceipt } from './inbound.js';
