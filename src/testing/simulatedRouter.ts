import { type Actor, type AnyActorLogic, type AnyActorRef, createActor, SimulatedClock } from "xstate";
import { blockingInboundPartMachine } from "../../machines/blockingInboundPart.js";
import { blockingOutboundPartMachine } from "../../machines/blockingOutboundPart.js";
import { bypassPartMachine } from "../../machines/bypassPart.js";
import { partEvents } from "../../machines/events.js";
import { inboundPartMachine } from "../../machines/inboundPart.js";
import { outboundPartMachine } from "../../machines/outboundPart.js";
import { type RouterEmitted, type RouterPartSpec, routerMachine } from "../../machines/router.js";
import { DEFAULT_SUPERVISION, type SupervisionPolicy } from "../../machines/supervision.js";
import type { PartRole, RestartType } from "../../machines/types.js";
import { createFakeBridge, type FakeBridge } from "./fakeBridge.js";

/** The part machines `simulateRouter` can run, by kind (what `SimulatedPart.kind` names), and the role each plays. */
export const simulatedPartKinds = {
  inbound: { machine: inboundPartMachine, role: "inbound" },
  blockingInbound: { machine: blockingInboundPartMachine, role: "inbound" },
  outbound: { machine: outboundPartMachine, role: "outbound" },
  blockingOutbound: { machine: blockingOutboundPartMachine, role: "outbound" },
  bypass: { machine: bypassPartMachine, role: "bypass" },
} as const satisfies Record<
  string,
  { machine: AnyActorLogic & { provide: (typeof inboundPartMachine)["provide"] }; role: PartRole }
>;

/** Which part machine a simulated part runs (a key of the table of part machines). */
export type SimulatedPartKind = keyof typeof simulatedPartKinds;

/** One part of a simulated router. */
export interface SimulatedPart {
  readonly name: string;
  readonly kind: SimulatedPartKind;
  readonly route?: string;
  readonly block?: boolean;
  /** @default "permanent" */
  readonly restart?: RestartType;
}

/** Options of `simulateRouter`. */
export interface SimulateRouterOptions {
  /** Any part of the policy; the rest from `DEFAULT_SUPERVISION`, with jitter 0 so delays are exact. */
  readonly policy?: Partial<Omit<SupervisionPolicy, "backoff">> & {
    backoff?: Partial<SupervisionPolicy["backoff"]>;
  };
  /** Report every part ready as soon as its bridge opens. @default true */
  readonly autoReady?: boolean;
}

/** A router run on a simulated clock with socket-free parts, and the controls a test drives it with. */
export interface SimulatedRouter {
  readonly router: Actor<typeof routerMachine>;
  readonly fake: FakeBridge;
  readonly clock: SimulatedClock;
  /** Every event the router emitted, with the simulated time it was emitted at. */
  readonly emitted: Array<RouterEmitted & { at: number }>;
  /** The part's running instance, if any. */
  child(name: string): AnyActorRef | undefined;
  /** The router's record of `name`: status, restarts, pending deliveries. */
  record(name: string): ReturnType<Actor<typeof routerMachine>["getSnapshot"]>["context"]["records"][string];
  /** Crashes a part (an abnormal exit) and lets its failure reach the router. */
  crash(name: string, error?: unknown): void;
  /** Ends a part normally (its `part.exit`) and lets the router see it. */
  exit(name: string): void;
  /** Whether the router escalated (and so stopped every part). */
  escalated(): boolean;
  /** The router's state: `starting`, `running`, `escalated` or `stopped`. */
  state(): string;
}

/**
 * Runs palm's router on xstate's `SimulatedClock` with socket-free parts (fake bridges): restart delays,
 * intensity windows and escalation are decided by the real router and the real part machines, and time
 * moves only when the test says (`clock.increment(ms)`). Jitter is 0 and randomness fixed, so every run is
 * the same.
 *
 * @example
 * const r = simulateRouter([{ name: "A", kind: "outbound" }], { policy: { maxRestarts: 1 } });
 * r.crash("A");
 * r.clock.increment(10);
 * r.record("A").restarts; // 1
 */
export function simulateRouter(
  parts: readonly SimulatedPart[],
  options: SimulateRouterOptions = {},
): SimulatedRouter {
  const fake = createFakeBridge({ autoReady: options.autoReady ?? true });
  const clock = new SimulatedClock();
  const specs: RouterPartSpec[] = parts.map((p) => ({
    name: p.name,
    role: simulatedPartKinds[p.kind].role,
    route: p.route,
    block: p.block === true,
    restart: p.restart ?? "permanent",
    logic: simulatedPartKinds[p.kind].machine.provide({ actors: { bridge: fake.bridge } }) as AnyActorLogic,
    input: { name: p.name, role: simulatedPartKinds[p.kind].role, partType: p.kind },
  }));
  const policy: SupervisionPolicy = {
    ...DEFAULT_SUPERVISION,
    ...options.policy,
    backoff: { ...DEFAULT_SUPERVISION.backoff, jitter: 0, ...options.policy?.backoff },
  };
  const router = createActor(routerMachine, {
    clock,
    input: { server: "simulated", parts: specs, policy, now: () => clock.now(), random: () => 0.5 },
  });
  const emitted: Array<RouterEmitted & { at: number }> = [];
  router.on("*", (event) => emitted.push({ ...(event as RouterEmitted), at: clock.now() }));
  router.start();
  const child = (name: string) =>
    (router.getSnapshot().children as Record<string, AnyActorRef | undefined>)[name];
  const running = (name: string) => {
    const part = child(name);
    if (!part) throw new Error(`Part "${name}" has no running instance`);
    return part;
  };
  return {
    router,
    fake,
    clock,
    emitted,
    child,
    record: (name) => router.getSnapshot().context.records[name]!,
    crash(name, error = new Error(`${name} crashed`)) {
      running(name).send(partEvents.crash(error));
      // A failed part throws to the router on its next tick (once its bridge closed).
      clock.increment(0);
    },
    exit(name) {
      running(name).send(partEvents.exit());
    },
    escalated: () => router.getSnapshot().value === "escalated",
    state: () => String(router.getSnapshot().value),
  };
}
