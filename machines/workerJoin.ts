import { assign, setup } from "xstate";

/** What a worker's join is started with. */
export interface WorkerJoinInput {
  /** How long each wait for the master's `welcome` lasts before the worker says hello again: growing, then steady (the last one repeats). */
  readonly waitsMs: readonly number[];
}

/** The join's context: its waits and the hellos it has said again so far (the inspector shows them). */
export interface WorkerJoinContext {
  readonly waitsMs: readonly number[];
  /** Hellos said again because no `welcome` came within a wait (the next wait is `waitsMs[retries]`). */
  retries: number;
}

/**
 * The events a worker's join takes: its dispatch part's socket attached (the part said hello on it) or
 * detached, the master's `welcome` and `who`, and the worker's stop.
 */
export type WorkerJoinEvent =
  | { readonly type: "link.attached" }
  | { readonly type: "link.detached" }
  | { readonly type: "master.welcome" }
  | { readonly type: "master.who" }
  | { readonly type: "join.stop" };

/** Builds the events a worker's join takes. */
export const workerJoinEvents = {
  attached: (): WorkerJoinEvent => ({ type: "link.attached" }),
  detached: (): WorkerJoinEvent => ({ type: "link.detached" }),
  welcome: (): WorkerJoinEvent => ({ type: "master.welcome" }),
  who: (): WorkerJoinEvent => ({ type: "master.who" }),
  stop: (): WorkerJoinEvent => ({ type: "join.stop" }),
};

/**
 * How a worker joins its master. The worker's dispatch part says hello as its socket attaches; until the
 * master answers `welcome`, the join says hello again after each wait of `waitsMs` (a delayed event, so a
 * simulated clock drives it): a hello queued on a pipe to an address the worker moved away from, or sent
 * before the master was up, is lost. A detached socket waits for the next attach; a `who` (a master that
 * restarted and asks who is there) is answered with a hello at any time. Once welcomed, the join says
 * hello only when asked; stopped, never.
 *
 * The pure definition: the `sayHello` (send a hello on the socket), `welcomed` and `abandoned` (the worker
 * stopped before it was welcomed) actions are supplied by the worker with `.provide()`.
 */
export const workerJoinMachine = setup({
  types: {
    context: {} as WorkerJoinContext,
    input: {} as WorkerJoinInput,
    events: {} as WorkerJoinEvent,
  },
  actions: {
    sayHello: () => undefined,
    welcomed: () => undefined,
    abandoned: () => undefined,
  },
  delays: {
    retry: ({ context }) => context.waitsMs[Math.min(context.retries, context.waitsMs.length - 1)] ?? 1000,
  },
}).createMachine({
  id: "workerJoin",
  context: ({ input }) => ({ waitsMs: input.waitsMs, retries: 0 }),
  initial: "detached",
  on: { "master.who": { actions: "sayHello" } },
  states: {
    detached: {
      on: {
        "link.attached": "greeting",
        "master.welcome": { target: "welcomed", actions: "welcomed" },
        "join.stop": { target: "stopped", actions: "abandoned" },
      },
    },
    greeting: {
      after: {
        retry: {
          target: "greeting",
          reenter: true,
          actions: [assign({ retries: ({ context }) => context.retries + 1 }), "sayHello"],
        },
      },
      on: {
        "link.detached": "detached",
        "master.welcome": { target: "welcomed", actions: "welcomed" },
        "join.stop": { target: "stopped", actions: "abandoned" },
      },
    },
    welcomed: { on: { "join.stop": "stopped" } },
    stopped: { type: "final" },
  },
});
