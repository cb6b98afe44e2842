import type { AnyEventObject, AnyStateMachine } from "xstate";
import { routerEvents } from "../../machines/events.js";
import { createMessage, type PalmMessage } from "../message.js";
import type { PartInfo, ServerTemplate } from "../serverTemplate.js";
import { createModelProbe, type ModelProbe, type ObservedTransition } from "./modelProbe.js";
import {
  builtInDrivers,
  type DriverEnvironment,
  type PartDriver,
  type PartDriverFactory,
  PathNotDrivable,
  peerlessDriver,
} from "./partDrivers.js";
import { type ModelPath, type ModelStep, partModel } from "./partModel.js";
import { randomPaths } from "./randomPaths.js";
import { until } from "./until.js";

/** Options of `testServerModel`. */
export interface ServerModelOptions {
  /** The parts to test. @default every part of the server */
  readonly parts?: readonly string[];
  /** Drivers for part types palm has none for (or to replace palm's), by part type. */
  readonly drivers?: Readonly<Record<string, PartDriverFactory>>;
  /** Machines to model a part by instead of its part type's (a part without a socket, say), by part name. */
  readonly machines?: Readonly<Record<string, AnyStateMachine>>;
  /** The events to try on a part's machine, by part name, when palm's part events (`modelEvents`) do not fit. */
  readonly events?: Readonly<
    Record<string, (snapshot: { value: unknown; context: any }) => AnyEventObject[]>
  >;
  /**
   * Random paths run per part on top of those that cover every state and transition.
   * @default `PALM_MODEL_BUDGET` from the environment, else 0
   */
  readonly budget?: number;
  /** Seed of the random paths; a failure's report names it. @default `PALM_MODEL_SEED`, else 1 */
  readonly seed?: number;
  /** How long to wait for a part to do what the model says it does. @default 5000 */
  readonly timeoutMs?: number;
}

/** What running a part's paths showed: coverage of its machine, and what did not go as the model says. */
export interface PartModelReport {
  readonly part: string;
  readonly partType: string;
  readonly machine: string;
  readonly paths: number;
  /** Paths a driver had to cut short (what they covered up to there counts). */
  readonly cutShort: number;
  readonly states: { readonly covered: number; readonly total: number; readonly missing: readonly string[] };
  readonly transitions: {
    readonly covered: number;
    readonly total: number;
    readonly missing: readonly string[];
  };
  /**
   * Transitions of the machine a real server cannot take (reached only by events it never gives in that
   * state, such as a delivery before the part is ready): covered by the pure model, not by the server.
   */
  readonly unreachable: readonly string[];
  readonly failures: readonly string[];
}

/** The report of `testServerModel`: per part, and whether every path went as the model says. */
export interface ServerModelReport {
  readonly parts: readonly PartModelReport[];
  readonly ok: boolean;
  readonly seed: number;
  /** One line per part: `Push (PushService, part): states 8/8, transitions 16/16, 10 paths`. */
  summary(): string;
}

/** The server to test, built afresh for each path with the probe's logger. */
export type ServerFactory = (probe: ModelProbe) => ServerTemplate | Promise<ServerTemplate>;

/** The faults and router events `testServerModel` causes itself; a part's driver causes the rest. */
function causedByServer(event: string, part: PartInfo): boolean {
  if (event === "part.crash" || event === "part.fault" || event === "part.exit") return true;
  if (event === "part.pause" || event === "part.resume")
    return part.kind === "inbound" && part.route !== undefined;
  if (event === "part.deliver") return part.kind === "outbound";
  return false;
}

const ESCALATE = "xstate.after.0.part.failed";
/** Events that follow on their own (from the socket, the router or the clock) once a path sets them up. */
const FOLLOWS = new Set([
  "part.ready",
  "part.open",
  "part.sent",
  "part.blocked",
  "part.replied",
  "part.feedback",
  "part.answered",
  "part.posted",
  ESCALATE,
]);
const PRESSURE_REASON = "palm-model";

/** A path cut into segments: a stimulus the test causes, then the events that must follow on their own. */
interface Segment {
  readonly stimulus: ModelStep | undefined;
  readonly follows: readonly ModelStep[];
}

function segments(path: ModelPath, isStimulus: (step: ModelStep) => boolean): Segment[] {
  const list: Array<{ stimulus: ModelStep | undefined; follows: ModelStep[] }> = [];
  for (const step of path.steps) {
    if (isStimulus(step) || list.length === 0)
      list.push({ stimulus: isStimulus(step) ? step : undefined, follows: [] });
    if (!isStimulus(step)) list[list.length - 1]!.follows.push(step);
  }
  return list;
}

/**
 * Runs generated path tests against a server: for each part, paths through its machine that together cover
 * every state and every transition (`partModel`), each run on a fresh server over real sockets with the
 * test as the part's peer (`PartDriver`s; palm has them for its parts, a user adds their own). After each
 * step it checks that the real part took the transition the model says, in the state the model says, that
 * the router's record agrees (restarts, status), and at the end of each path that every message the test
 * sent arrived, and arrived once (or once more per failure of an outbound part under test, which may send
 * again what it had handed its socket: a part restart loses nothing but may repeat). Resolves with per-part coverage and every failure, naming path and step.
 *
 * @example
 * const report = await testServerModel((probe) => {
 *   const server = new ServerTemplate({ name: "app", logger: probe.logger });
 *   server.registerInbound(PullService, "Pull", pullAddress, { route: "Push" });
 *   server.registerOutbound(PushService, "Push", pushAddress);
 *   return server;
 * });
 * console.log(report.summary()); // Pull (PullService): states 7/7, transitions 9/9, …
 */
export async function testServerModel(
  build: ServerFactory,
  options: ServerModelOptions = {},
): Promise<ServerModelReport> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const budget = options.budget ?? (Number(process.env.PALM_MODEL_BUDGET) || 0);
  const seed = options.seed ?? (Number(process.env.PALM_MODEL_SEED) || 1);
  const drivers = { ...builtInDrivers, ...options.drivers };
  // Learn the server's parts (and their machines) from one instance that is never started.
  const sample = await build(createModelProbe());
  const definitions = new Map(sample.definitions().map((d) => [d.name, d.part]));
  const infos = sample.parts();
  const names = options.parts ?? infos.map((p) => p.name);
  const reports: PartModelReport[] = [];
  for (const name of names) {
    const info = infos.find((p) => p.name === name);
    const definition = definitions.get(name);
    if (!info || !definition) throw new Error(`The server has no part named "${name}"`);
    const machine = options.machines?.[name] ?? definition.machine;
    const input = { name, role: info.kind, partType: info.partType, highWater: 1 };
    const capabilities = (drivers[info.partType] ?? peerlessDriver)(unopened(sample, info, timeoutMs));
    // What a real server can do: nothing reaches a part before it is ready but its own readiness and
    // faults; the test causes what the server or the part's driver can cause; the rest must follow.
    const takesBatches = ((machine as { events?: unknown }).events as string[] | undefined)?.includes(
      "part.deliverAll",
    );
    const filter = (state: string, event: AnyEventObject) => {
      if (FOLLOWS.has(event.type)) return true;
      if (state.endsWith("connecting")) return false;
      // A part that takes batches is handed a delivery only while idle: the router holds what comes while
      // its send is pending and hands it over with the acknowledgement.
      if (event.type === "part.deliver" && takesBatches && !state.endsWith("idle")) return false;
      if (causedByServer(event.type, info)) return true;
      return capabilities.stimuli.has(event.type) && (capabilities.can?.(event, state) ?? true);
    };
    const events = options.events?.[name];
    const model = partModel(machine, { input, filter, ...(events ? { events } : {}) });
    const everything = partModel(machine, { input, ...(events ? { events } : {}) });
    const paths = [...model.paths, ...randomPaths(machine, budget, seed, input, filter, 8, events)];
    const covered = { states: new Set<string>(), transitions: new Set<string>() };
    const failures: string[] = [];
    let cutShort = 0;
    for (const [index, path] of paths.entries()) {
      const label = `${name} path ${index + 1}/${paths.length} (seed ${seed})`;
      try {
        const { cutShort: cut } = await runPath(build, name, path, drivers, timeoutMs, covered);
        if (cut) cutShort++;
      } catch (error) {
        failures.push(`${label}: ${describePath(path)}: ${(error as Error).message}`);
      }
    }
    const missingStates = model.states.filter((s) => !covered.states.has(s));
    const missingTransitions = model.transitions.map((t) => t.id).filter((t) => !covered.transitions.has(t));
    reports.push({
      part: name,
      partType: info.partType,
      machine: model.machine,
      paths: paths.length,
      cutShort,
      states: {
        covered: model.states.length - missingStates.length,
        total: model.states.length,
        missing: missingStates,
      },
      transitions: {
        covered: model.transitions.length - missingTransitions.length,
        total: model.transitions.length,
        missing: missingTransitions,
      },
      unreachable: [...everything.coveredTransitions].filter((id) => !model.coveredTransitions.has(id)),
      failures,
    });
  }
  return {
    parts: reports,
    ok: reports.every((r) => r.failures.length === 0),
    seed,
    summary: () =>
      reports
        .map(
          (r) =>
            `${r.part} (${r.partType}): states ${r.states.covered}/${r.states.total}, transitions ` +
            `${r.transitions.covered}/${r.transitions.total}, ${r.paths} paths (${r.cutShort} cut short), ${r.failures.length} failed`,
        )
        .join("\n"),
  };
}

function describePath(path: ModelPath): string {
  return path.steps.map((s) => `${s.event.type.replace(/^part\./, "")}→${s.state}`).join(", ");
}

async function runPath(
  build: ServerFactory,
  name: string,
  path: ModelPath,
  factories: Readonly<Record<string, PartDriverFactory>>,
  timeoutMs: number,
  covered: { states: Set<string>; transitions: Set<string> },
): Promise<{ cutShort: boolean }> {
  const probe = createModelProbe();
  const server = await build(probe);
  const injected = new Map<string, number>();
  // Per sink (`part/sink` and tag): each message once at most; and the tags that reached any sink.
  const arrived = new Map<string, number>();
  const reached = new Set<string>();
  let tags = 0;
  const drivers = new Map<string, PartDriver>();
  const inject = (count: number) => {
    const messages: PalmMessage[] = [];
    for (let i = 0; i < count; i++) {
      const tag = `model-${++tags}`;
      injected.set(tag, 0);
      messages.push(createMessage({ function: `${server.name}.model`, payload: Buffer.from(tag) }));
    }
    return messages;
  };
  for (const info of server.parts()) {
    const environment: DriverEnvironment = {
      server,
      part: info,
      timeoutMs,
      inject,
      arrived(messages, sink = "peer") {
        for (const m of messages) {
          // An error answer (a request owed by a crashed instance) carries no message of the test's.
          if (m.error !== undefined) continue;
          const tag = Buffer.from(m.payload).toString();
          const key = `${info.name}/${sink} ${tag}`;
          arrived.set(key, (arrived.get(key) ?? 0) + 1);
          reached.add(tag);
        }
      },
      allArrived: () => [...injected.keys()].every((tag) => reached.has(tag)),
    };
    drivers.set(info.name, (factories[info.partType] ?? peerlessDriver)(environment));
  }
  const driver = drivers.get(name)!;
  const failures = { count: 0 };
  const offFailed = server.on("part.failed", (event) => {
    if (event.part === name) failures.count++;
  });
  let pressured = false;
  let cutShort = false;
  try {
    for (const [part, d] of drivers) await d.open(part === name);
    await server.start();
    // The state the part started in, as its trace shows it.
    const init = probe.of(name).find((t) => t.event === "xstate.init");
    for (const prefix of prefixes(init?.state ?? "")) if (prefix) covered.states.add(prefix);
    const info = () => server.parts().find((p) => p.name === name)!;
    const isStimulus = (step: ModelStep) => !FOLLOWS.has(step.event.type);
    let cursor = 0;
    let expectedFailures = 0;
    // The steps actually taken (all of them, unless a driver cut the path short).
    const taken: ModelStep[] = [];
    const same = (expected: string, real: string) => driver.same?.(expected, real) ?? expected === real;
    for (const segment of segments(path, isStimulus)) {
      const expected = segment.follows.map((s) => s.event.type);
      if (segment.stimulus) {
        const event = segment.stimulus.event;
        try {
          await driver.prepare?.(expected);
        } catch (error) {
          if (!(error instanceof PathNotDrivable)) throw error;
          cutShort = true;
          break;
        }
        const seenFrom = probe.transitions.length;
        await cause(server, name, event, driver, info(), inject);
        if (event.type === "part.pause" || event.type === "part.resume")
          pressured = event.type === "part.pause";
        await driver.follow?.(expected, () => probe.of(name, seenFrom).map((t) => t.event));
      }
      for (const step of segment.stimulus ? [segment.stimulus, ...segment.follows] : segment.follows) {
        if (step.event.type === ESCALATE) {
          expectedFailures++;
          await until(
            () => (failures.count >= expectedFailures ? true : undefined),
            timeoutMs,
            () => `waiting for the router to see "${name}" fail`,
          );
        } else {
          cursor = await observe(probe, name, step, cursor, timeoutMs, same);
        }
        for (const id of step.transitions) covered.transitions.add(id);
        for (const prefix of prefixes(step.state)) covered.states.add(prefix);
        taken.push(step);
      }
      const last = [segment.stimulus, ...segment.follows].filter((s) => s !== undefined).pop();
      if (last?.status === "active") {
        // The server reports the state the part's trace last shows (it may have moved on by itself, as a
        // queued send completing), and the router sees the part ready.
        await until(
          () => {
            const row = info();
            const trace = probe.of(name);
            return row.state === trace[trace.length - 1]?.state && row.status === "ready" ? true : undefined;
          },
          timeoutMs,
          () =>
            `waiting for the server to report "${name}" ready in its last traced state (it is in "${info().state}", ${info().status})`,
        );
      }
    }
    // The router restarts what the path made fail or exit (restart types are permanent here), and then
    // everything the test sent arrives, once.
    const ends = taken.filter((s) => s.status !== "active").length;
    if (ends > 0) {
      await until(
        () => (info().restarts === ends && info().status === "ready" ? true : undefined),
        timeoutMs,
        () =>
          `waiting for "${name}" to be restarted ${ends} time(s) (restarts ${info().restarts}, ${info().status})`,
      );
    }
    if (pressured) server.sendRouter(routerEvents.pressure(info().route!, false, PRESSURE_REASON));
    for (const d of drivers.values()) await d.drain?.();
    await until(
      () => ([...injected.keys()].every((tag) => reached.has(tag)) ? true : undefined),
      timeoutMs,
      () =>
        `waiting for every message to arrive: lost ${[...injected.keys()].filter((t) => !reached.has(t)).join(", ")}`,
    );
    // A part restart loses nothing but may repeat: what an outbound part had handed its socket when it
    // failed is sent again by its next instance (only a Master's ledger drops such duplicates). So a
    // message may arrive once more per failure of the outbound part under test, and never otherwise.
    const hits = info().kind === "outbound" ? ends : 0;
    const duplicated = [...arrived].filter(([, n]) => n > 1 + hits).map(([key]) => key);
    if (duplicated.length > 0)
      throw new Error(`arrived more than ${1 + hits} time(s): ${duplicated.join(", ")}`);
    const unexpected = [...reached].filter((tag) => !injected.has(tag));
    if (unexpected.length > 0) throw new Error(`arrived but never sent: ${unexpected.join(", ")}`);
    return { cutShort };
  } finally {
    offFailed();
    await server.stop();
    for (const d of drivers.values()) await d.close();
  }
}

/** Causes a path's stimulus: a fault, a router event, or (through the driver) a peer's doing. */
async function cause(
  server: ServerTemplate,
  name: string,
  event: AnyEventObject,
  driver: PartDriver,
  info: PartInfo,
  inject: (count: number) => PalmMessage[],
) {
  switch (event.type) {
    case "part.crash":
      if (!server.crash(name, "crashed by the model")) throw new Error(`"${name}" had no instance to crash`);
      return;
    case "part.fault":
      if (!server.failSocket(name, "socket failed by the model"))
        throw new Error(`"${name}" had no instance whose socket could fail`);
      return;
    case "part.exit":
      if (!server.exitPart(name)) throw new Error(`"${name}" had no instance to exit`);
      return;
    case "part.pause":
    case "part.resume":
      server.sendRouter(routerEvents.pressure(info.route!, event.type === "part.pause", PRESSURE_REASON));
      return;
    case "part.deliver": {
      const count = (event as { delivery?: { messages: unknown[] } }).delivery?.messages.length ?? 1;
      // As if an inbound part had routed them: recorded in the router's ledger like any delivery.
      server.sendRouter(routerEvents.route(name, inject(count), undefined, name));
      return;
    }
    default:
      await driver.stimulate(event);
  }
}

/** Waits until the part's observed transitions, from `cursor` on, include `step`; returns the next cursor. */
async function observe(
  probe: ModelProbe,
  name: string,
  step: ModelStep,
  cursor: number,
  timeoutMs: number,
  same: (expected: string, real: string) => boolean,
) {
  let seen: ObservedTransition[] = [];
  return until(
    () => {
      seen = probe.of(name);
      for (let i = cursor; i < seen.length; i++) {
        if (seen[i]!.event === step.event.type && same(step.state, seen[i]!.state)) return i + 1;
      }
      return undefined;
    },
    timeoutMs,
    () =>
      `waiting for "${name}" to take ${step.event.type} into "${step.state}" (it took: ${seen
        .slice(cursor)
        .map((t) => `${t.event}→${t.state}`)
        .join(", ")})`,
  );
}

function prefixes(state: string): string[] {
  const parts = state.split(".");
  return parts.map((_, i) => parts.slice(0, i + 1).join("."));
}

/** An environment for asking a driver what it can do, without opening it. */
function unopened(server: ServerTemplate, part: PartInfo, timeoutMs: number): DriverEnvironment {
  return {
    server,
    part,
    timeoutMs,
    inject: () => [],
    arrived: () => undefined,
    allArrived: () => true,
  };
}
