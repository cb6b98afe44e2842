import { assign, enqueueActions, fromCallback, sendParent, setup } from "xstate";
import { type BridgeCommand, type PartEvent, routerEvents } from "./events.js";
import type { Delivery, PartRole } from "./types.js";

/** What every part machine is started with. `bridge` is opaque here: only the provided bridge reads it. */
export interface PartInput {
  readonly name: string;
  readonly role: PartRole;
  /** pylm's part name, e.g. `PullService`. */
  readonly partType: string;
  /** Messages an outbound part may queue before it asks the router to hold back (backpressure). */
  readonly highWater?: number;
  readonly bridge?: unknown;
  /**
   * What the part keeps across its restarts, created once when it was registered (a Master's delivery
   * ledger), as kept sockets keep their queues.
   */
  readonly keep?: unknown;
}

/** A part's state besides its state value: its name, queues and counters. */
export interface PartContext {
  readonly name: string;
  readonly role: PartRole;
  readonly partType: string;
  readonly highWater: number;
  readonly bridge: unknown;
  /** Deliveries waiting for the socket (outbound parts). */
  queue: Delivery[];
  queuedMessages: number;
  /** Whether this part told the router to hold back. */
  pressured: boolean;
  /** Ticket of the request a blocking inbound part is answering. */
  ticket: number;
  messagesIn: number;
  messagesOut: number;
  badFrames: number;
  lastError: unknown;
}

/** Default for `PartInput.highWater`. */
export const DEFAULT_HIGH_WATER = 20_000;

/** The error a failed part throws to its router: `error` itself, or one wrapping what was thrown. */
export function describe(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Appends a delivery to a part's queue in place (copying it per delivery would be quadratic under load)
 * and says whether the queue just went past `highWater`, so the part asks the router to hold back.
 */
export function queueDelivery(
  context: { queue: Delivery[]; queuedMessages: number; pressured: boolean; readonly highWater: number },
  delivery: Delivery,
): { queuedMessages: number; pressure: boolean } {
  const queuedMessages = context.queuedMessages + delivery.messages.length;
  context.queue.push(delivery);
  return { queuedMessages, pressure: !context.pressured && queuedMessages > context.highWater };
}

/**
 * The setup every part machine shares: its types, the `bridge` placeholder (the socket edge, provided in
 * `actors/`) and the actions that talk to the router. Pure: no I/O here.
 */
export const partSetup = setup({
  types: {
    context: {} as PartContext,
    events: {} as PartEvent,
    input: {} as PartInput,
  },
  actors: {
    // Placeholder: `actors/` provides the real socket bridge with `machine.provide({ actors: { bridge } })`.
    bridge: fromCallback<BridgeCommand, PartInput>(() => undefined),
  },
  actions: {
    notifyReady: sendParent(({ context }) => routerEvents.ready(context.name)),
    recordError: assign({
      lastError: ({ event }) => ("error" in event ? event.error : new Error(event.type)),
    }),
    countBadFrames: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "part.badFrame") return;
      enqueue.assign({ badFrames: context.badFrames + event.count });
      enqueue.sendParent(routerEvents.badFrame(context.name, event.count, event.reason));
    }),
    /** Throws the recorded error so the router receives `xstate.error.actor.<name>` (after the bridge closed). */
    escalate: ({ context }) => {
      throw describe(context.lastError);
    },
  },
});

/** Builds a part's initial context from its input. */
export function initialPartContext(input: PartInput): PartContext {
  return {
    name: input.name,
    role: input.role,
    partType: input.partType,
    highWater: input.highWater ?? DEFAULT_HIGH_WATER,
    bridge: input.bridge,
    queue: [],
    queuedMessages: 0,
    pressured: false,
    ticket: 0,
    messagesIn: 0,
    messagesOut: 0,
    badFrames: 0,
    lastError: undefined,
  };
}

/**
 * What every part's `running` state does besides its work: faults and crashes go to `failed` (which
 * escalates to the router on the next tick, once leaving `running` has closed the bridge), bad frames are
 * counted, and `part.exit` ends the part normally.
 */
export const runningTransitions = {
  "part.fault": { target: "#part.failed", actions: "recordError" },
  "part.crash": { target: "#part.failed", actions: "recordError" },
  "part.badFrame": { actions: "countBadFrames" },
  "part.exit": { target: "#part.exited" },
} as const;

/** The states beside `running` that every part has. */
export const endStates = {
  failed: { after: { 0: { actions: "escalate" } } },
  exited: { type: "final" },
} as const;
