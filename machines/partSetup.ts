import { assign, enqueueActions, fromCallback, sendParent, setup } from "xstate";
import { type BridgeCommand, type PartEvent, type RouterEvent, routerEvents } from "./events.js";
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

/** What `queueDelivery` needs of `enqueueActions`' `enqueue`: an assignment and a send to the router. */
export interface QueueEnqueue {
  assign(values: { queuedMessages: number; pressured?: boolean }): void;
  sendParent(event: RouterEvent): void;
}

/**
 * Appends a delivery to a part's queue in place (copying it per delivery would be quadratic under load)
 * and, when the queue just went past `highWater`, asks the router to hold back (the part's enqueue action).
 */
export function queueDelivery(
  context: {
    readonly name: string;
    queue: Delivery[];
    queuedMessages: number;
    pressured: boolean;
    readonly highWater: number;
  },
  delivery: Delivery,
  enqueue: QueueEnqueue,
): void {
  const queuedMessages = context.queuedMessages + delivery.messages.length;
  context.queue.push(delivery);
  enqueue.assign({ queuedMessages });
  if (!context.pressured && queuedMessages > context.highWater) {
    enqueue.assign({ queuedMessages, pressured: true });
    enqueue.sendParent(routerEvents.pressure(context.name, true));
  }
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
    recordError: assign({ lastError: ({ event }) => errorOf(event) }),
    countBadFrames: enqueueActions(({ context, event, enqueue }) => countBadFrames(context, event, enqueue)),
    escalate: ({ context }) => escalate(context),
  },
});

/** The error an event carries (a bridge's fault, a child's error), or one naming the event. */
export function errorOf(event: { type: string }): unknown {
  return "error" in event ? event.error : new Error(event.type);
}

/** What `countBadFrames` needs of `enqueueActions`' `enqueue`. */
export interface BadFrameEnqueue {
  assign(values: { badFrames: number }): void;
  sendParent(event: RouterEvent): void;
}

/** Counts the frames a bridge dropped as bad and tells the router (every part's `countBadFrames`). */
export function countBadFrames(
  context: { readonly name: string; readonly badFrames: number },
  event: { type: string },
  enqueue: BadFrameEnqueue,
): void {
  if (event.type !== "part.badFrame") return;
  const { count, reason } = event as Extract<PartEvent, { type: "part.badFrame" }>;
  enqueue.assign({ badFrames: context.badFrames + count });
  enqueue.sendParent(routerEvents.badFrame(context.name, count, reason));
}

/** Throws the recorded error so the router receives `xstate.error.actor.<name>` (after the bridge closed). */
export function escalate(context: { readonly lastError: unknown }): never {
  throw describe(context.lastError);
}

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

/** A setup part machines are made from: `partSetup`, an extension of it, or `httpPartSetup`. */
interface PartMachineSetup {
  createMachine(config: never): unknown;
}

/** The machine config `setup.createMachine` takes, typed for that setup's context, events and actions. */
type ConfigOf<S extends PartMachineSetup> = S["createMachine"] extends (config: infer C) => unknown
  ? C
  : never;

/** A state config under `setup` (what `running` is), with its transitions and child states. */
type StateOf<S extends PartMachineSetup> =
  ConfigOf<S> extends { states?: infer X }
    ? NonNullable<X> extends Record<string, infer State>
      ? State
      : never
    : never;

/** What differs between part machines: the context they start with, `running`'s extra transitions and its states. */
export interface PartMachineParts<S extends PartMachineSetup> {
  readonly context: (args: { input: PartInput }) => unknown;
  /** Transitions of `running` besides the shared `runningTransitions` (faults, crashes, bad frames, exit). */
  readonly on?: StateOf<S> extends { on?: infer On } ? On : never;
  /** The states of `running`, `connecting` (the first: waits for the bridge) included. */
  readonly states: StateOf<S> extends { states?: infer States } ? States : never;
}

/**
 * Builds a part machine on the skeleton every part shares: `running` (the bridge invoked with the part's
 * context; faults and crashes to `failed`, bad frames counted, `part.exit` to `exited`) starting in
 * `connecting`, then `failed` (escalates to the router) and `exited`. Each part machine gives only what
 * differs: its setup (actions and guards), its context, `running`'s extra transitions and its states.
 */
export function createPartMachine<S extends PartMachineSetup>(
  setup: S,
  parts: PartMachineParts<S>,
): ReturnType<S["createMachine"]> {
  const on = parts.on as object | undefined;
  const config = {
    id: "part",
    context: parts.context,
    initial: "running",
    states: {
      running: {
        invoke: { id: "bridge", src: "bridge", input: ({ context }: { context: unknown }) => context },
        on: { ...runningTransitions, ...on },
        initial: "connecting",
        states: parts.states,
      },
      ...endStates,
    },
  };
  // The pieces are typed against `setup` by `PartMachineParts<S>`; TypeScript cannot follow that through
  // the generic `S`, so the assembled config is handed over as what `createMachine` takes.
  return setup.createMachine(config as never) as ReturnType<S["createMachine"]>;
}
