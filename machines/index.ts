/**
 * palm-actors/machines: the pure statecharts every part and the router run (xstate v5).
 *
 * @module palm-actors/machines
 */
export { blockingInboundPartMachine } from "./blockingInboundPart.js";
export { blockingOutboundPartMachine } from "./blockingOutboundPart.js";
export { bypassPartMachine } from "./bypassPart.js";
export {
  type DeliveryContext,
  type DeliveryEvent,
  type DeliveryInput,
  deliveryEvents,
  deliveryMachine,
} from "./delivery.js";
export { DeliveryLedger, PUSH_POOL } from "./deliveryLedger.js";
export * from "./deliveryTypes.js";
export type { EarliestDeadlineContext, EarliestDeadlineEvent } from "./earliestDeadline.js";
export { earliestDeadlineEvents, earliestDeadlineMachine } from "./earliestDeadline.js";
export type { BridgeCommand, BridgeEvent, ControlEvent, PartEvent, RouterEvent } from "./events.js";
export { bridgeCommands, partEvents, routerEvents } from "./events.js";
export type { GreetWaitEvent, GreetWaitInput } from "./greetWait.js";
export { greetWaitEvents, greetWaitMachine } from "./greetWait.js";
export { httpInboundPartMachine } from "./httpInboundPart.js";
export { httpOutboundPartMachine } from "./httpOutboundPart.js";
export type {
  HttpBridgeCommand,
  HttpBridgeEvent,
  HttpPartContext,
  HttpPartEvent,
  OpenDelivery,
} from "./httpPartSetup.js";
export { httpBridgeCommands, httpPartEvents } from "./httpPartSetup.js";
export { inboundPartMachine } from "./inboundPart.js";
export type { MasterWatchContext, MasterWatchEvent, MasterWatchInput } from "./masterWatch.js";
export { masterWatchEvents, masterWatchMachine } from "./masterWatch.js";
export { outboundPartMachine } from "./outboundPart.js";
export type { PartContext, PartInput } from "./partSetup.js";
export { DEFAULT_HIGH_WATER } from "./partSetup.js";
export type {
  EscalationReason,
  PartRecord,
  PartStatus,
  RouterContext,
  RouterEmitted,
  RouterInput,
  RouterPartSpec,
} from "./router.js";
export { routerMachine } from "./router.js";
export type { BackoffPolicy, SupervisionPolicy, SupervisionStrategy } from "./supervision.js";
export {
  affectedChildren,
  backoffDelay,
  DEFAULT_SUPERVISION,
  shouldRestart,
  withinIntensity,
} from "./supervision.js";
export type { Delivery, PartRole, RestartType } from "./types.js";
export type { WorkerJoinContext, WorkerJoinEvent, WorkerJoinInput } from "./workerJoin.js";
export { workerJoinEvents, workerJoinMachine } from "./workerJoin.js";

import { blockingInboundPartMachine } from "./blockingInboundPart.js";
import { blockingOutboundPartMachine } from "./blockingOutboundPart.js";
import { bypassPartMachine } from "./bypassPart.js";
import { deliveryMachine } from "./delivery.js";
import { earliestDeadlineMachine } from "./earliestDeadline.js";
import { greetWaitMachine } from "./greetWait.js";
import { httpInboundPartMachine } from "./httpInboundPart.js";
import { httpOutboundPartMachine } from "./httpOutboundPart.js";
import { inboundPartMachine } from "./inboundPart.js";
import { masterWatchMachine } from "./masterWatch.js";
import { outboundPartMachine } from "./outboundPart.js";
import { routerMachine } from "./router.js";
import { workerJoinMachine } from "./workerJoin.js";

/** Every machine palm runs, by name: what `palm viz` draws. */
export const machines = {
  inboundPart: inboundPartMachine,
  blockingInboundPart: blockingInboundPartMachine,
  outboundPart: outboundPartMachine,
  blockingOutboundPart: blockingOutboundPartMachine,
  bypassPart: bypassPartMachine,
  httpInboundPart: httpInboundPartMachine,
  httpOutboundPart: httpOutboundPartMachine,
  router: routerMachine,
  delivery: deliveryMachine,
  masterWatch: masterWatchMachine,
  workerJoin: workerJoinMachine,
  earliestDeadline: earliestDeadlineMachine,
  greetWait: greetWaitMachine,
} as const;
