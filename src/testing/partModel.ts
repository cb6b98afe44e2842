import {
  type AnyActorLogic,
  type AnyActorRef,
  type AnyEventObject,
  type AnyStateMachine,
  createActor,
  createMachine,
  type InspectionEvent,
  SimulatedClock,
} from "xstate";
import { stateName } from "../serverTemplate.js";
import { modelEvents } from "./modelEvents.js";

/** One transition of a machine's definition: `source|event|index` names it. */
export interface ModelTransition {
  readonly id: string;
  /** The state node it leaves (dotted path; "" is the root). */
  readonly source: string;
  /** The event type, `always` for an eventless transition, or `xstate.after.<ms>.<state>` for a delay. */
  readonly event: string;
  /** The dotted path of its target, or undefined for a transition that only runs actions. */
  readonly target: string | undefined;
}

/** One step of a path: the event given, the state the part is in afterwards, the transitions it took. */
export interface ModelStep {
  readonly event: AnyEventObject;
  readonly state: string;
  /** `done` after a normal exit, `error` once a failed part threw to its parent. */
  readonly status: "active" | "done" | "error";
  readonly transitions: readonly string[];
}

/** A path through a part machine from its initial state, with the states and transitions it covers. */
export interface ModelPath {
  readonly steps: readonly ModelStep[];
}

/** A part machine's model: every state and transition of its definition, and paths that cover them. */
export interface PartModel {
  readonly machine: string;
  readonly states: readonly string[];
  readonly transitions: readonly ModelTransition[];
  readonly paths: readonly ModelPath[];
  /** The states and transitions the paths cover (every one, unless a limit cut the exploration short). */
  readonly coveredStates: ReadonlySet<string>;
  readonly coveredTransitions: ReadonlySet<string>;
}

/** Options of `partModel`. */
export interface PartModelOptions {
  /** The events to try in a state; by default palm's part events, with payloads that fit the context. */
  readonly events?: (snapshot: { value: unknown; context: any }) => AnyEventObject[];
  /**
   * What, besides its state value, tells two snapshots apart for exploration (a queue being empty or not,
   * a pressure flag): by default a coarse summary of palm's part contexts.
   */
  readonly abstract?: (context: any) => unknown;
  /** The input the machine is started with. @default a part named "Part" with `highWater` 1 */
  readonly input?: unknown;
  /** The most distinct snapshots to explore. @default 500 */
  readonly maxSnapshots?: number;
  /**
   * Which events may be given in which state, for a model of what a real server can do (its router hands a
   * part nothing before it is ready, say): a transition reached only through others is left uncovered.
   * @default every event in every state
   */
  readonly filter?: (state: string, event: AnyEventObject) => boolean;
}

/** The delayed event a failed part escalates with (xstate's name for `after: { 0: … }` in `failed`). */
const ESCALATE = "xstate.after.0.part.failed";

/** Every state node of a machine (except its root), as dotted paths. */
function stateNodes(machine: AnyStateMachine): Array<{ path: string; node: any }> {
  const nodes: Array<{ path: string; node: any }> = [];
  const walk = (node: any) => {
    for (const child of Object.values(node.states as Record<string, any>)) {
      nodes.push({ path: (child.path as string[]).join("."), node: child });
      walk(child);
    }
  };
  walk(machine.root);
  return nodes;
}

function transitionId(source: string, event: string, index: number): string {
  return `${source}|${event}|${index}`;
}

function targetOf(definition: { target?: Array<{ path: string[] }> }): string | undefined {
  return definition.target?.map((t) => t.path.join(".")).join(",");
}

/** Every transition of a machine's definition, including delayed and eventless ones. */
export function machineTransitions(machine: AnyStateMachine): ModelTransition[] {
  const transitions: ModelTransition[] = [];
  const all = [{ path: "", node: machine.root as any }, ...stateNodes(machine)];
  for (const { path, node } of all) {
    for (const [event, definitions] of node.transitions as Map<string, any[]>) {
      definitions.forEach((definition, i) => {
        transitions.push({
          id: transitionId(path, event, i),
          source: path,
          event,
          target: targetOf(definition),
        });
      });
    }
    (node.always as any[] | undefined)?.forEach((definition, i) => {
      transitions.push({
        id: transitionId(path, "always", i),
        source: path,
        event: "always",
        target: targetOf(definition),
      });
    });
  }
  return transitions;
}

/** The id of a transition definition as `machineTransitions` names it. */
function idOf(definition: any): string {
  const source = (definition.source.path as string[]).join(".");
  if (definition.eventType === "" || definition.eventType === undefined) {
    const index = (definition.source.always as any[]).indexOf(definition);
    return transitionId(source, "always", index);
  }
  const list = definition.source.transitions.get(definition.eventType) as any[];
  return transitionId(source, definition.eventType, list.indexOf(definition));
}

/** A coarse summary of a part's context: enough to tell apart what guards decide on. */
function defaultAbstract(context: any): unknown {
  const cap = (n: unknown) => (typeof n === "number" ? Math.min(n, 2) : undefined);
  return [
    cap(context.queue?.length),
    context.pressured,
    context.held,
    cap(context.inFlight),
    cap(context.open?.length),
    context.open?.[0]?.remaining > 0,
    cap(context.cursor),
  ];
}

/** Runs `events` through a fresh instance of the machine (under a parent, on a simulated clock). */
export function replay(logic: AnyActorLogic, input: unknown, events: readonly AnyEventObject[]): ModelStep[] {
  const clock = new SimulatedClock();
  let taken: string[] = [];
  let part: AnyActorRef | undefined;
  const inspect = (event: InspectionEvent) => {
    if (event.type === "@xstate.microstep" && event.actorRef === part)
      taken.push(...(event as unknown as { _transitions: unknown[] })._transitions.map(idOf));
  };
  const parent = createMachine({ invoke: { id: "part", src: logic, input } });
  const actor = createActor(parent, { clock, inspect });
  actor.subscribe({ error: () => undefined });
  actor.start();
  part = actor.getSnapshot().children.part as AnyActorRef;
  part.subscribe({ error: () => undefined });
  const steps: ModelStep[] = [];
  for (const event of events) {
    taken = [];
    if (event.type === ESCALATE) {
      clock.increment(0);
      if ((part.getSnapshot() as { status: string }).status === "error")
        taken.push(transitionId("failed", ESCALATE, 0));
    } else part.send(event);
    const snapshot = part.getSnapshot() as { value: unknown; status: string };
    steps.push({
      event,
      state: stateName(snapshot.value),
      status: snapshot.status as ModelStep["status"],
      transitions: taken,
    });
  }
  actor.stop();
  return steps;
}

/**
 * Explores a part machine by running it (its real definition, guards and actions, on a fake bridge and
 * a simulated clock), breadth first over its states and a coarse summary of its context, and returns
 * paths from its initial state that together cover every state and every transition it reaches —
 * `crash`, `fault`, `exit` and the escalation of a failed part included. Works for any machine whose events
 * `options.events` can produce, with or without a socket.
 *
 * @example
 * const model = partModel(outboundPartMachine);
 * model.paths.length; // paths to run against a real PushService
 * model.coveredTransitions.size === model.transitions.length; // true
 */
export function partModel(machine: AnyStateMachine, options: PartModelOptions = {}): PartModel {
  const events = options.events ?? modelEvents;
  const abstract = options.abstract ?? defaultAbstract;
  const input = options.input ?? { name: "Part", role: "outbound", partType: "Part", highWater: 1 };
  const limit = options.maxSnapshots ?? 500;
  const states = stateNodes(machine).map((s) => s.path);
  const transitions = machineTransitions(machine);
  const logic = machine as AnyActorLogic;
  const keyOf = (step: { state: string; status: string }, context: unknown) =>
    JSON.stringify([step.state, step.status, abstract(context)]);
  // Breadth first: the first time a snapshot is seen, it is by a shortest path.
  const initial = createActor(createMachine({ invoke: { id: "part", src: logic, input } })).start();
  const first = initial.getSnapshot().children.part as AnyActorRef;
  const firstSnapshot = first.getSnapshot() as { value: unknown; context: unknown };
  initial.stop();
  const seen = new Set<string>([
    keyOf({ state: stateName(firstSnapshot.value), status: "active" }, firstSnapshot.context),
  ]);
  const frontier: Array<{ events: AnyEventObject[]; snapshot: { value: unknown; context: unknown } }> = [
    { events: [], snapshot: firstSnapshot },
  ];
  const coveredStates = new Set<string>();
  const coveredTransitions = new Set<string>();
  const paths: ModelPath[] = [];
  const cover = (steps: ModelStep[]) => {
    let fresh = false;
    for (const step of steps) {
      for (const prefix of prefixes(step.state)) {
        if (!coveredStates.has(prefix)) fresh = true;
        coveredStates.add(prefix);
      }
      for (const id of step.transitions) {
        if (!coveredTransitions.has(id)) fresh = true;
        coveredTransitions.add(id);
      }
    }
    return fresh;
  };
  cover([
    { event: { type: "start" }, state: stateName(firstSnapshot.value), status: "active", transitions: [] },
  ]);
  while (frontier.length > 0 && seen.size < limit) {
    const { events: prefix, snapshot } = frontier.shift()!;
    const tried = events(snapshot as { value: unknown; context: any });
    if (stateName(snapshot.value) === "failed") tried.push({ type: ESCALATE });
    for (const event of tried) {
      if (options.filter && !options.filter(stateName(snapshot.value), event)) continue;
      const path = [...prefix, event];
      const steps = replay(logic, input, path);
      const last = steps[steps.length - 1]!;
      if (last.transitions.length === 0) continue;
      if (cover(steps)) paths.push({ steps });
      if (last.status !== "active") continue;
      const after = snapshotAfter(logic, input, path);
      const key = keyOf(last, after.context);
      if (seen.has(key)) continue;
      seen.add(key);
      frontier.push({ events: path, snapshot: after });
    }
  }
  return {
    machine: String(machine.id),
    states,
    transitions,
    paths: dropPrefixes(paths),
    coveredStates,
    coveredTransitions,
  };
}

/** The part's snapshot after `events` (for the next round of exploration). */
export function snapshotAfter(logic: AnyActorLogic, input: unknown, events: readonly AnyEventObject[]) {
  const actor = createActor(createMachine({ invoke: { id: "part", src: logic, input } }));
  actor.subscribe({ error: () => undefined });
  actor.start();
  const part = actor.getSnapshot().children.part as AnyActorRef;
  for (const event of events) part.send(event);
  const snapshot = part.getSnapshot() as { value: unknown; context: unknown };
  actor.stop();
  return snapshot;
}

/** `running.ready.flowing` → `running`, `running.ready`, `running.ready.flowing`. */
function prefixes(state: string): string[] {
  const parts = state.split(".");
  return parts.map((_, i) => parts.slice(0, i + 1).join("."));
}

/** Paths that are a prefix of a longer one add nothing to run: keep the longer. */
function dropPrefixes(paths: ModelPath[]): ModelPath[] {
  const keys = paths.map((p) => p.steps.map((s) => eventKey(s.event)));
  return paths.filter((_, i) =>
    keys.every(
      (other, j) => j === i || other.length <= keys[i]!.length || keys[i]!.some((t, k) => other[k] !== t),
    ),
  );
}

/** What tells two events of a path apart: their type and the payload fields guards look at. */
function eventKey(event: AnyEventObject): string {
  const { ticket, slots, delivery, index } = event as {
    ticket?: number;
    slots?: number;
    index?: number;
    delivery?: { messages: unknown[] };
  };
  return JSON.stringify([event.type, ticket, slots, index, delivery?.messages.length]);
}
