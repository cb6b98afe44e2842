import { assign, enqueueActions, fromCallback, sendParent, setup } from "xstate";
import { type BridgeCommand, type PartEvent, routerEvents } from "./events.js";
import {
  countBadFrames,
  errorOf,
  escalate,
  initialPartContext,
  type PartContext,
  type PartInput,
} from "./partSetup.js";
import type { PalmMessage } from "./types.js";

// HTTP parts hold many requests at once, which the kernel's one-at-a-time events (REP, REQ) cannot say:
// these events add a request number (ticket) or a message slot, and a capacity the bridge announces.

/** Events the bridge of an HTTP part sends its machine, besides the common ones. */
export type HttpBridgeEvent =
  /** The server listens (HttpService) or the client is set up (HttpConnection), with room for `slots`. */
  | { type: "part.open"; slots: number }
  /** HttpService: one HTTP request became `messages`; `ticket` is unique across restarts of the part. */
  | { type: "part.request"; ticket: number; messages: PalmMessage[] }
  /** HttpService: the request `ticket` was answered (or given up on); its slot is free. */
  | { type: "part.answered"; ticket: number }
  /** HttpConnection: the POST of message `index` of delivery `seq` ended with `answers`. */
  | { type: "part.posted"; seq: number; index: number; answers: PalmMessage[] };

/** Commands an HTTP part's machine gives its bridge, besides the common ones. */
export type HttpBridgeCommand =
  | BridgeCommand
  /** HttpService: answer request `ticket` with the feedback of its route. */
  | { type: "bridge.answer"; ticket: number; messages: PalmMessage[] }
  /** HttpConnection: POST message `index` of delivery `seq`. */
  | { type: "bridge.post"; seq: number; index: number; message: PalmMessage };

/** Everything an HTTP part's machine can receive. */
export type HttpPartEvent = PartEvent | HttpBridgeEvent;

/** Builds the events an HTTP part machine receives from its bridge (`part.request`, …). */
export const httpPartEvents = {
  open: (slots: number): HttpBridgeEvent => ({ type: "part.open", slots }),
  request: (ticket: number, messages: PalmMessage[]): HttpBridgeEvent => ({
    type: "part.request",
    ticket,
    messages,
  }),
  answered: (ticket: number): HttpBridgeEvent => ({ type: "part.answered", ticket }),
  posted: (seq: number, index: number, answers: PalmMessage[]): HttpBridgeEvent => ({
    type: "part.posted",
    seq,
    index,
    answers,
  }),
};

/** Builds the commands an HTTP part machine sends its bridge (`bridge.answer`, `bridge.post`). */
export const httpBridgeCommands = {
  answer: (ticket: number, messages: PalmMessage[]): HttpBridgeCommand => ({
    type: "bridge.answer",
    ticket,
    messages,
  }),
  post: (seq: number, index: number, message: PalmMessage): HttpBridgeCommand => ({
    type: "bridge.post",
    seq,
    index,
    message,
  }),
};

/** A delivery an HttpConnection started posting and has not acknowledged: answers by message index. */
export interface OpenDelivery {
  readonly seq: number;
  readonly answers: PalmMessage[][];
  remaining: number;
}

/** An HTTP part's state besides its state value. */
export interface HttpPartContext extends PartContext {
  /** Requests (HttpService) or POSTs (HttpConnection) that may be outstanding at once. */
  slots: number;
  /** Requests routed and not answered (HttpService), or POSTs under way (HttpConnection). */
  inFlight: number;
  /** HttpService: the router asked it to hold back (its route is under pressure). */
  held: boolean;
  /** HttpConnection: the next message of the first queued delivery to post. */
  cursor: number;
  /** HttpConnection: deliveries started and not acknowledged, in delivery order. */
  open: OpenDelivery[];
}

/**
 * The setup both HTTP part machines share: the common part actions (as in `partSetup`) over a context and
 * events that know about many requests in flight. Pure: no I/O here.
 */
export const httpPartSetup = setup({
  types: {
    context: {} as HttpPartContext,
    events: {} as HttpPartEvent,
    input: {} as PartInput,
  },
  actors: {
    // Placeholder: `actors/` provides the HTTP bridge with `machine.provide({ actors: { bridge } })`.
    bridge: fromCallback<HttpBridgeCommand, PartInput>(() => undefined),
  },
  actions: {
    notifyReady: sendParent(({ context }) => routerEvents.ready(context.name)),
    openSlots: assign({
      slots: ({ context, event }) => (event.type === "part.open" ? event.slots : context.slots),
    }),
    recordError: assign({ lastError: ({ event }) => errorOf(event) }),
    countBadFrames: enqueueActions(({ context, event, enqueue }) => countBadFrames(context, event, enqueue)),
    escalate: ({ context }) => escalate(context),
  },
});

/** Builds an HTTP part's initial context: no room until the bridge opens. */
export function initialHttpPartContext(input: PartInput): HttpPartContext {
  return { ...initialPartContext(input), slots: 0, inFlight: 0, held: false, cursor: 0, open: [] };
}
