import type { Delivery, PalmMessage } from "./types.js";

// Every event a part or the router exchanges, as a namespaced discriminated union, built only by the
// factories below (xstate's `xstate.error.actor.<id>` is the one event xstate itself builds).

/** Events a part's bridge (its socket edge) sends to the part's machine. */
export type BridgeEvent =
  | { type: "part.ready" }
  | {
      type: "part.received";
      messages: PalmMessage[];
      to: string | undefined;
      envelope?: unknown;
      /** When the bridge read them (ms since the epoch), if it hands them over after acting on them. */
      at?: number;
    }
  | { type: "part.sent"; seq: number; count: number; feedback: PalmMessage[] | undefined }
  | { type: "part.blocked" }
  | { type: "part.replied" }
  | { type: "part.badFrame"; count: number; reason: string }
  | { type: "part.fault"; error: unknown };

/** Events the router (or the server) sends to a part. */
export type ControlEvent =
  | { type: "part.deliver"; delivery: Delivery }
  /** Several deliveries at once, in order, for a part whose machine accepts them (see the router's ledger). */
  | { type: "part.deliverAll"; deliveries: Delivery[]; count: number }
  | { type: "part.feedback"; ticket: number; messages: PalmMessage[] }
  | { type: "part.pause" }
  | { type: "part.resume" }
  | { type: "part.crash"; error: unknown }
  | { type: "part.exit" }
  /** A publishing part's own delayed event: time to say it is alive. */
  | { type: "part.heartbeat" };

/** Everything a part machine can receive. */
export type PartEvent = BridgeEvent | ControlEvent;

/** Commands a part machine gives its bridge. */
export type BridgeCommand =
  | { type: "bridge.send"; deliveries: Delivery[] }
  | { type: "bridge.reply"; messages: PalmMessage[] }
  | { type: "bridge.pause" }
  | { type: "bridge.resume" }
  | { type: "bridge.heartbeat" };

/** Events parts send their router. */
export type RouterEvent =
  | { type: "router.ready"; part: string }
  | {
      type: "router.route";
      part: string;
      messages: PalmMessage[];
      ticket: number | undefined;
      to: string | undefined;
      /** Carried to the target with the messages (see `Delivery.envelope`). */
      envelope?: unknown;
      /**
       * The part also acknowledges what it was handed up to this seq, settled before the messages are
       * routed (as a `router.ack` just before this event would be): one event where it would take two.
       */
      acked?: number;
    }
  | { type: "router.ack"; part: string; seq: number; feedback: PalmMessage[] | undefined }
  | {
      type: "router.pressure";
      part: string;
      high: boolean;
      /** Why, when it is not the part's own queue (e.g. a master's in-flight cap); pressures add up by reason. */
      reason?: string;
      /** Only this inbound part is held back (a master holds its clients' intake, not its workers' results). */
      only?: string;
    }
  /** Something a part wants the server's observers told (a master's `worker.lost`): the router emits it. */
  | { type: "router.notice"; event: { type: string } }
  | { type: "router.badFrame"; part: string; count: number; reason: string }
  | { type: "router.restart"; parts: string[] }
  | { type: "router.stop" }
  | { type: "router.escalate" };

/** Builds the events a part machine receives: from its bridge (`part.ready`, …) and from the router (`part.deliver`, …). */
export const partEvents = {
  ready: (): BridgeEvent => ({ type: "part.ready" }),
  received: (messages: PalmMessage[], to?: string, envelope?: unknown): BridgeEvent =>
    envelope === undefined
      ? { type: "part.received", messages, to }
      : { type: "part.received", messages, to, envelope },
  /** Messages the bridge read at `at` and acted on before this event (a worker runs its work first). */
  receivedAt: (messages: PalmMessage[], at: number): BridgeEvent => ({
    type: "part.received",
    messages,
    to: undefined,
    at,
  }),
  sent: (seq: number, count: number, feedback?: PalmMessage[]): BridgeEvent => ({
    type: "part.sent",
    seq,
    count,
    feedback,
  }),
  blocked: (): BridgeEvent => ({ type: "part.blocked" }),
  replied: (): BridgeEvent => ({ type: "part.replied" }),
  badFrame: (count: number, reason: string): BridgeEvent => ({ type: "part.badFrame", count, reason }),
  fault: (error: unknown): BridgeEvent => ({ type: "part.fault", error }),
  deliver: (delivery: Delivery): ControlEvent => ({ type: "part.deliver", delivery }),
  deliverAll: (deliveries: Delivery[]): ControlEvent => {
    let count = 0;
    for (const delivery of deliveries) count += delivery.messages.length;
    return { type: "part.deliverAll", deliveries, count };
  },
  feedback: (ticket: number, messages: PalmMessage[]): ControlEvent => ({
    type: "part.feedback",
    ticket,
    messages,
  }),
  pause: (): ControlEvent => ({ type: "part.pause" }),
  resume: (): ControlEvent => ({ type: "part.resume" }),
  crash: (error: unknown): ControlEvent => ({ type: "part.crash", error }),
  exit: (): ControlEvent => ({ type: "part.exit" }),
  heartbeat: (): ControlEvent => ({ type: "part.heartbeat" }),
};

/** Builds the commands a part machine sends its bridge (`bridge.send`, …). */
export const bridgeCommands = {
  send: (deliveries: Delivery[]): BridgeCommand => ({ type: "bridge.send", deliveries }),
  reply: (messages: PalmMessage[]): BridgeCommand => ({ type: "bridge.reply", messages }),
  pause: (): BridgeCommand => ({ type: "bridge.pause" }),
  resume: (): BridgeCommand => ({ type: "bridge.resume" }),
  heartbeat: (): BridgeCommand => ({ type: "bridge.heartbeat" }),
};

/** Builds the events the router receives from its parts (`router.route`, …). */
export const routerEvents = {
  ready: (part: string): RouterEvent => ({ type: "router.ready", part }),
  route: (
    part: string,
    messages: PalmMessage[],
    ticket?: number,
    to?: string,
    envelope?: unknown,
  ): RouterEvent =>
    envelope === undefined
      ? { type: "router.route", part, messages, ticket, to }
      : { type: "router.route", part, messages, ticket, to, envelope },
  /** A `router.route` that also acknowledges the part's deliveries up to `acked` (settled first). */
  ackAndRoute: (
    part: string,
    acked: number,
    messages: PalmMessage[],
    to: string | undefined,
    envelope: unknown,
  ): RouterEvent =>
    envelope === undefined
      ? { type: "router.route", part, messages, ticket: undefined, to, acked }
      : { type: "router.route", part, messages, ticket: undefined, to, envelope, acked },
  ack: (part: string, seq: number, feedback?: PalmMessage[]): RouterEvent => ({
    type: "router.ack",
    part,
    seq,
    feedback,
  }),
  pressure: (part: string, high: boolean, reason?: string, only?: string): RouterEvent =>
    only === undefined
      ? { type: "router.pressure", part, high, reason }
      : { type: "router.pressure", part, high, reason, only },
  notice: (event: { type: string }): RouterEvent => ({ type: "router.notice", event }),
  badFrame: (part: string, count: number, reason: string): RouterEvent => ({
    type: "router.badFrame",
    part,
    count,
    reason,
  }),
  restart: (parts: string[]): RouterEvent => ({ type: "router.restart", parts }),
  stop: (): RouterEvent => ({ type: "router.stop" }),
};
