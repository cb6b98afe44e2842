import { assign, setup } from "xstate";

/** The deadline timer's context: how long its last wait was, and how many times it fired. */
export interface EarliestDeadlineContext {
  /** The wait (ms) the timer was last armed with: until the earliest deadline then. */
  waitMs: number;
  /** Times the earliest deadline came. */
  fired: number;
}

/** The events a deadline timer takes: arm it for the earliest deadline (in `inMs`), or stop it. */
export type EarliestDeadlineEvent =
  | { readonly type: "deadline.arm"; readonly inMs: number }
  | { readonly type: "deadline.stop" };

/** Builds the events a deadline timer takes. */
export const earliestDeadlineEvents = {
  arm: (inMs: number): EarliestDeadlineEvent => ({ type: "deadline.arm", inMs }),
  stop: (): EarliestDeadlineEvent => ({ type: "deadline.stop" }),
};

/**
 * One timer for many deadlines (an HTTP gateway's requests): its owner keeps the deadlines in order and
 * arms the timer for the earliest, rather than one timer (or one actor) per deadline. When it comes (a
 * delayed event, so a simulated clock drives it), `expire` runs: the owner answers what is due and arms the
 * timer again for the next deadline, if any. A deadline met early (its request answered) is left in place:
 * the timer finds it gone when it fires and goes on to the next.
 *
 * The pure definition: the `expire` action is supplied by the owner with `.provide()`.
 */
export const earliestDeadlineMachine = setup({
  types: {
    context: {} as EarliestDeadlineContext,
    events: {} as EarliestDeadlineEvent,
  },
  actions: {
    expire: () => undefined,
  },
  delays: {
    earliest: ({ context }) => context.waitMs,
  },
}).createMachine({
  id: "earliestDeadline",
  context: { waitMs: 0, fired: 0 },
  initial: "idle",
  on: { "deadline.stop": ".stopped" },
  states: {
    idle: {
      on: {
        "deadline.arm": {
          target: "armed",
          actions: assign({ waitMs: ({ event }) => Math.max(0, event.inMs) }),
        },
      },
    },
    armed: {
      after: {
        earliest: {
          target: "idle",
          actions: [assign({ fired: ({ context }) => context.fired + 1 }), "expire"],
        },
      },
    },
    stopped: { type: "final" },
  },
});
