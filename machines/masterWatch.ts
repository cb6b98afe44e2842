import { assign, fromPromise, setup } from "xstate";

/** What a worker's master watch is started with. */
export interface MasterWatchInput {
  /** How long the connection may stay down before the watch asks the master's cache where it is. */
  readonly graceMs: number;
}

/** The watch's context: its grace and what it has done so far (the inspector shows them). */
export interface MasterWatchContext {
  readonly graceMs: number;
  /** Answers the master's cache has given. */
  lookups: number;
  /** Times the master was found at a new address and followed there. */
  moves: number;
}

/** The events a master watch takes: the worker's DEALER's connection events, and its stop. */
export type MasterWatchEvent =
  | { readonly type: "peer.handshake" }
  | { readonly type: "peer.disconnect" }
  | { readonly type: "watch.stop" };

/** Builds the events a master watch takes. */
export const masterWatchEvents = {
  handshake: (): MasterWatchEvent => ({ type: "peer.handshake" }),
  disconnect: (): MasterWatchEvent => ({ type: "peer.disconnect" }),
  stop: (): MasterWatchEvent => ({ type: "watch.stop" }),
};

/**
 * How a worker follows a master that comes back elsewhere. A master binds its Dispatch address on a
 * wildcard port by default, so one restarted in a new process listens on a new port, and ZeroMQ would
 * reconnect to the old one forever. When the worker's connection has been down for `graceMs` (a delayed
 * event, so a simulated clock drives it), the watch asks the master's cache (which keeps its fixed
 * address) where the master is now: a new address is followed (`moveTo`), the same one waits another
 * grace and asks again, until the connection is back. A connection back while the cache is asked cancels
 * the question.
 *
 * The pure definition: `lookup` (the cache's answer, an address), the `moved` guard (is that address not
 * the one the worker is connected to?) and the `moveTo` and `lookupFailed` actions are supplied by the
 * worker with `.provide()`.
 */
export const masterWatchMachine = setup({
  types: {
    context: {} as MasterWatchContext,
    input: {} as MasterWatchInput,
    events: {} as MasterWatchEvent,
  },
  actors: {
    lookup: fromPromise<string>(async () => ""),
  },
  guards: {
    moved: (_, _params: { address: string }) => false,
  },
  actions: {
    moveTo: (_, _params: { address: string }) => undefined,
    lookupFailed: (_, _params: { error: unknown }) => undefined,
  },
  delays: {
    grace: ({ context }) => context.graceMs,
  },
}).createMachine({
  id: "masterWatch",
  context: ({ input }) => ({ graceMs: input.graceMs, lookups: 0, moves: 0 }),
  initial: "connected",
  on: { "watch.stop": ".stopped" },
  states: {
    connected: { on: { "peer.disconnect": "down" } },
    down: {
      on: { "peer.handshake": "connected" },
      after: { grace: "looking" },
    },
    looking: {
      on: { "peer.handshake": "connected" },
      invoke: {
        id: "lookup",
        src: "lookup",
        onDone: [
          {
            guard: { type: "moved", params: ({ event }) => ({ address: event.output }) },
            target: "down",
            actions: [
              assign({
                lookups: ({ context }) => context.lookups + 1,
                moves: ({ context }) => context.moves + 1,
              }),
              { type: "moveTo", params: ({ event }) => ({ address: event.output }) },
            ],
          },
          { target: "down", actions: assign({ lookups: ({ context }) => context.lookups + 1 }) },
        ],
        onError: {
          target: "down",
          actions: { type: "lookupFailed", params: ({ event }) => ({ error: event.error }) },
        },
      },
    },
    stopped: { type: "final" },
  },
});
