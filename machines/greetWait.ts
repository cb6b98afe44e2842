import { setup } from "xstate";

/** What a greet wait is started with. */
export interface GreetWaitInput {
  /** How long the publisher has to answer (the part's `greetTimeoutMs`). */
  readonly waitMs: number;
}

/** The events a greet wait takes: the publisher answered, or the part stopped. */
export type GreetWaitEvent = { readonly type: "greet.met" } | { readonly type: "greet.stop" };

/** Builds the events a greet wait takes. */
export const greetWaitEvents = {
  met: (): GreetWaitEvent => ({ type: "greet.met" }),
  stop: (): GreetWaitEvent => ({ type: "greet.stop" }),
};

/**
 * How long a subscriber waits for its publisher's greeting (a `SubConnection` proving its subscriptions
 * live, or asking a palm publisher where its result streams are) before it goes on without one: a pylm
 * publisher never answers, and one not started yet cannot. Started as the part's socket is ready; the
 * publisher's answer ends it (`met`), else, `waitMs` later (a delayed event, so a simulated clock drives
 * it), `gaveUp` runs and the part goes on unproven.
 *
 * The pure definition: the `gaveUp` action is supplied by the part's bridge with `.provide()`.
 */
export const greetWaitMachine = setup({
  types: {
    context: {} as { readonly waitMs: number },
    input: {} as GreetWaitInput,
    events: {} as GreetWaitEvent,
  },
  actions: {
    gaveUp: () => undefined,
  },
  delays: {
    greet: ({ context }) => context.waitMs,
  },
}).createMachine({
  id: "greetWait",
  context: ({ input }) => ({ waitMs: input.waitMs }),
  initial: "waiting",
  states: {
    waiting: {
      after: { greet: { target: "gaveUp", actions: "gaveUp" } },
      on: { "greet.met": "met", "greet.stop": "stopped" },
    },
    met: { type: "final" },
    gaveUp: { type: "final" },
    stopped: { type: "final" },
  },
});
