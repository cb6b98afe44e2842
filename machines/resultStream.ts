import { assign, emit, setup } from "xstate";

/** Frames the server could not hand to a client's stream yet, with how many results they carry. */
export interface HeldFrames {
  readonly frames: readonly Uint8Array[];
  readonly messages: number;
}

/** What one client's stream is started with. */
export interface ResultStreamInput {
  /** The client's id (its DEALER's routing id). */
  readonly client: string;
  /** Results the server may keep for it: the window it announced. */
  readonly limit: number;
  /** How long its stream may stay full (no progress at all) before it is cut off. */
  readonly slowConsumerMs: number;
  /** How long a full stream waits before it is tried again. */
  readonly retryMs: number;
  /** What waited for the client when the part before this one stopped (a crash): tried first. */
  readonly held?: readonly HeldFrames[];
}

/** One client's stream: what waits for room, and why it was cut off. */
export interface ResultStreamContext {
  readonly client: string;
  readonly limit: number;
  readonly slowConsumerMs: number;
  readonly retryMs: number;
  /** Frames waiting for room in the client's stream, oldest first. */
  held: HeldFrames[];
  /** Results in `held`. */
  heldMessages: number;
  /** Why the stream was cut off (set once). */
  reason: string | undefined;
}

/** Events of a client's stream, from the `Streams` part's bridge. */
export type ResultStreamEvent =
  /** These frames found the client's stream full (EAGAIN): keep them, in order, after what waits. */
  | { type: "stream.full"; held: HeldFrames }
  /** The first `frames` waiting frames (carrying `messages` results) went out. */
  | { type: "stream.sent"; frames: number; messages: number }
  /** The cut-off notice reached the client. */
  | { type: "stream.told" }
  /** The client said bye, or cannot be reached: forget the stream. */
  | { type: "stream.close" };

/** What a client's stream asks its bridge to do. */
export type ResultStreamEmitted =
  /** Try sending what waits again. */
  | { type: "retry" }
  /** The stream was cut off: log `reason` once and tell the client. */
  | { type: "cutOff"; reason: string }
  /** Try telling the client once more that it was cut off. */
  | { type: "tell" };

/** Builds the events a client's stream takes. */
export const resultStreamEvents = {
  full: (held: HeldFrames): ResultStreamEvent => ({ type: "stream.full", held }),
  sent: (frames: number, messages: number): ResultStreamEvent => ({ type: "stream.sent", frames, messages }),
  told: (): ResultStreamEvent => ({ type: "stream.told" }),
  close: (): ResultStreamEvent => ({ type: "stream.close" }),
};

/** How often a cut-off notice is tried again while the client's queue stays full. */
const TELL_EVERY_MS = 100;
/** How long a cut-off notice is tried (at least), so a client that reads again later still learns why. */
const TELL_FOR_MS = 60_000;

type Args = { context: ResultStreamContext; event: ResultStreamEvent };

const streamSetup = setup({
  types: {
    context: {} as ResultStreamContext,
    events: {} as ResultStreamEvent,
    input: {} as ResultStreamInput,
    emitted: {} as ResultStreamEmitted,
  },
  actions: {
    keep: assign(({ context, event }: Args) => {
      if (event.type !== "stream.full") return {};
      return {
        held: [...context.held, event.held],
        heldMessages: context.heldMessages + event.held.messages,
      };
    }),
    drop: assign(({ context, event }: Args) => {
      if (event.type !== "stream.sent") return {};
      return {
        held: context.held.slice(event.frames),
        heldMessages: Math.max(0, context.heldMessages - event.messages),
      };
    }),
    forget: assign({ held: [], heldMessages: 0 }),
    retry: emit({ type: "retry" } as ResultStreamEmitted),
    tell: emit({ type: "tell" } as ResultStreamEmitted),
    slowReason: assign(({ context }) => ({
      reason: `its stream stayed full for ${context.slowConsumerMs} ms (slowConsumerMs): ${context.heldMessages} results dropped`,
    })),
    windowReason: assign(({ context, event }: Args) => ({
      reason: `it let more than its window of ${context.limit} results wait: ${
        context.heldMessages + (event.type === "stream.full" ? event.held.messages : 0)
      } results dropped`,
    })),
    announce: emit(({ context }) => ({ type: "cutOff", reason: context.reason ?? "cut off" }) as const),
  },
  guards: {
    overLimit: ({ context, event }: Args) =>
      event.type === "stream.full" && context.heldMessages + event.held.messages > context.limit,
    allSent: ({ context, event }: Args) =>
      event.type === "stream.sent" && event.frames >= context.held.length,
    progressed: ({ event }: Args) => event.type === "stream.sent" && event.frames > 0,
    holding: ({ context }) => context.held.length > 0,
  },
  delays: {
    retry: ({ context }) => context.retryMs,
    slowConsumer: ({ context }) => context.slowConsumerMs,
    tellAgain: ({ context }) => Math.max(context.retryMs, TELL_EVERY_MS),
    giveUp: ({ context }) => Math.max(TELL_FOR_MS, 10 * context.slowConsumerMs),
  },
});

/**
 * One palm client's result stream on a server's `Streams` part. `flowing` while the client's DEALER takes
 * what is sent; `full` once a send found its ZeroMQ queue full (ROUTER_MANDATORY's EAGAIN, for this client
 * only): what follows waits here, in order, and is tried again every `retryMs`. Any progress restarts the
 * `slowConsumerMs` deadline; a stream that makes none for that long, or lets more than the client's window
 * wait, is cut off: what waited is dropped, the bridge logs the reason once and tells the client (`cutoff`),
 * which fails its pending calls with that reason instead of waiting in silence. Timers are delayed events.
 */
export const resultStreamMachine = streamSetup.createMachine({
  id: "resultStream",
  context: ({ input }) => ({
    client: input.client,
    limit: input.limit,
    slowConsumerMs: input.slowConsumerMs,
    retryMs: input.retryMs,
    held: [...(input.held ?? [])],
    heldMessages: (input.held ?? []).reduce((sum, entry) => sum + entry.messages, 0),
    reason: undefined,
  }),
  initial: "flowing",
  on: { "stream.close": { target: ".closed", actions: "forget" } },
  states: {
    flowing: {
      // Started with what an earlier instance of the part kept: it waits, and is retried, as if full.
      always: { guard: "holding", target: "full" },
      on: {
        "stream.full": [
          { guard: "overLimit", target: "cutOff", actions: ["windowReason", "forget"] },
          { target: "full", actions: "keep" },
        ],
      },
    },
    full: {
      after: { slowConsumer: { target: "cutOff", actions: ["slowReason", "forget"] } },
      initial: "waiting",
      states: {
        waiting: { after: { retry: { target: "waiting", reenter: true, actions: "retry" } } },
      },
      on: {
        "stream.full": [
          { guard: "overLimit", target: "cutOff", actions: ["windowReason", "forget"] },
          { actions: "keep" },
        ],
        "stream.sent": [
          { guard: "allSent", target: "flowing", actions: "drop" },
          // Progress: the client reads, slowly. Its deadline starts again.
          { guard: "progressed", target: "full", reenter: true, actions: "drop" },
          { actions: "drop" },
        ],
      },
    },
    cutOff: {
      entry: "announce",
      after: { giveUp: { target: "closed" } },
      initial: "telling",
      states: {
        telling: { after: { tellAgain: { target: "telling", reenter: true, actions: "tell" } } },
      },
      on: { "stream.told": { target: "closed" } },
    },
    closed: { type: "final" },
  },
});
