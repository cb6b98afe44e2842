import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AnyActorLogic,
  type AnyActorRef,
  type AnyEventObject,
  createActor,
  createMachine,
  SimulatedClock,
} from "xstate";
import { blockingInboundPartMachine } from "../machines/blockingInboundPart.js";
import { blockingOutboundPartMachine } from "../machines/blockingOutboundPart.js";
import { bypassPartMachine } from "../machines/bypassPart.js";
import { type BridgeCommand, partEvents, routerEvents } from "../machines/events.js";
import { inboundPartMachine } from "../machines/inboundPart.js";
import { outboundPartMachine } from "../machines/outboundPart.js";
import { DEFAULT_HIGH_WATER, type PartContext, type PartInput } from "../machines/partSetup.js";
import { type RouterEmitted, type RouterPartSpec, routerMachine } from "../machines/router.js";
import {
  affectedChildren,
  backoffDelay,
  DEFAULT_SUPERVISION,
  type SupervisionPolicy,
  shouldRestart,
  withinIntensity,
} from "../machines/supervision.js";
import type { Delivery, PartRole, RestartType } from "../machines/types.js";
import { isPalmError } from "../src/errors.js";
import { createMessage, type PalmMessage } from "../src/message.js";
import { stateName } from "../src/serverTemplate.js";
import { resolveSupervision } from "../src/supervisionOptions.js";
import { createFakeBridge, type FakeBridge } from "../src/testing/fakeBridge.js";

const machines = {
  inbound: inboundPartMachine,
  blockingInbound: blockingInboundPartMachine,
  outbound: outboundPartMachine,
  blockingOutbound: blockingOutboundPartMachine,
  bypass: bypassPartMachine,
} as const;
type Kind = keyof typeof machines;

function roleOf(kind: Kind): PartRole {
  if (kind === "inbound" || kind === "blockingInbound") return "inbound";
  if (kind === "bypass") return "bypass";
  return "outbound";
}

function messages(...tags: string[]): PalmMessage[] {
  return tags.map((tag) => createMessage({ function: "server.f", payload: Buffer.from(tag) }));
}

function tagsOf(list: readonly PalmMessage[]): string[] {
  return list.map((m) => Buffer.from(m.payload).toString());
}

function delivery(seq: number, ...tags: string[]): Delivery {
  return { seq, messages: messages(...tags), origin: undefined, ticket: 0 };
}

/** Runs one part machine under a parent that records what the part sends it; the test plays its bridge. */
function runPart(kind: Kind, highWater?: number) {
  const fake = createFakeBridge();
  const logic = machines[kind].provide({ actors: { bridge: fake.bridge } }) as AnyActorLogic;
  const input: PartInput = { name: "P", role: roleOf(kind), partType: kind, highWater };
  // What the part sent its parent; fields read loosely, as a test reads a log.
  const toParent: Array<AnyEventObject & Record<string, any>> = [];
  const parent = createMachine({
    invoke: { id: "P", src: logic, input },
    on: { "*": { actions: ({ event }) => toParent.push(event) } },
  });
  const clock = new SimulatedClock();
  const actor = createActor(parent, { clock }).start();
  const part = actor.getSnapshot().children.P as AnyActorRef;
  const states: string[] = [];
  const record = (snapshot: { value: unknown }) => {
    const name = stateName(snapshot.value);
    if (states[states.length - 1] !== name) states.push(name);
  };
  record(part.getSnapshot());
  // An error handler, so a failing part is reported to its parent only (as under the router).
  part.subscribe({ next: record, error: () => undefined });
  const context = () => (part.getSnapshot() as { context: PartContext }).context;
  const sent = (type: string) => toParent.filter((e) => e.type === type);
  return { fake, part, states, toParent, sent, clock, context, emit: fake.emit.bind(fake, "P") };
}

describe("part machines, driven by events alone (fake bridge)", () => {
  it("inbound part: connecting, flowing, paused and resumed by the router, failed on a crash", () => {
    const p = runPart("inbound");
    p.emit(partEvents.ready());
    p.emit(partEvents.received(messages("a", "b")));
    p.emit(partEvents.badFrame(2, "garbage"));
    p.part.send(partEvents.pause());
    p.part.send(partEvents.resume());
    p.part.send(partEvents.crash(new Error("boom")));
    assert.deepEqual(p.states, [
      "running.connecting",
      "running.ready.flowing",
      "running.ready.paused",
      "running.ready.flowing",
      "failed",
    ]);
    assert.deepEqual(
      p.fake.commandsOf("P").map((c) => c.type),
      ["bridge.pause", "bridge.resume"],
    );
    const route = p.sent("router.route")[0]!;
    assert.deepEqual(tagsOf(route.messages), ["a", "b"]);
    assert.equal(route.ticket, undefined);
    assert.equal(p.context().messagesIn, 2);
    assert.equal(p.context().badFrames, 2);
    assert.equal(p.sent("router.badFrame").length, 1);
    // The bridge is closed as the part leaves `running`; the failure reaches the parent on the next tick.
    assert.deepEqual(p.fake.log, ["open:P#1", "close:P#1"]);
    assert.equal(p.sent("xstate.error.actor.P").length, 0);
    p.clock.increment(0);
    const [failure] = p.sent("xstate.error.actor.P");
    assert.equal(failure?.error.message, "boom");
  });

  it("inbound part: a normal exit ends it in a final state, reported as done", () => {
    const p = runPart("inbound");
    p.emit(partEvents.ready());
    p.part.send(partEvents.exit());
    assert.deepEqual(p.states, ["running.connecting", "running.ready.flowing", "exited"]);
    assert.equal(p.sent("xstate.done.actor.P").length, 1);
    assert.equal(p.sent("xstate.error.actor.P").length, 0);
  });

  it("blocking inbound part: listens, waits for the feedback of its own ticket, replies, listens again", () => {
    const p = runPart("blockingInbound");
    p.emit(partEvents.ready());
    p.emit(partEvents.received(messages("question")));
    p.part.send(partEvents.feedback(99, messages("stale")));
    p.part.send(partEvents.feedback(1, messages("answer")));
    p.emit(partEvents.replied());
    assert.deepEqual(p.states, [
      "running.connecting",
      "running.listening",
      "running.awaitingFeedback",
      "running.replying",
      "running.listening",
    ]);
    const route = p.sent("router.route")[0]!;
    assert.equal(route.ticket, 1);
    const replies = p.fake.commandsOf("P", "bridge.reply") as Array<
      Extract<BridgeCommand, { type: "bridge.reply" }>
    >;
    assert.equal(replies.length, 1, "the stale feedback is ignored");
    assert.deepEqual(tagsOf(replies[0]!.messages), ["answer"]);
    assert.equal(p.context().messagesOut, 1);
  });

  it("outbound part: queues while connecting, sends in batches, blocks, asks the router to hold back", () => {
    const p = runPart("outbound", 3);
    p.part.send(partEvents.deliver(delivery(1, "a")));
    p.emit(partEvents.ready());
    p.part.send(partEvents.deliver(delivery(2, "b", "c")));
    p.part.send(partEvents.deliver(delivery(3, "d", "e")));
    p.emit(partEvents.blocked());
    p.emit(partEvents.sent(1, 1));
    p.emit(partEvents.sent(3, 4));
    assert.deepEqual(p.states, [
      "running.connecting",
      "running.sending.writing",
      "running.sending.blocked",
      "running.sending.writing",
      "running.idle",
    ]);
    const sends = p.fake.commandsOf("P", "bridge.send") as Array<
      Extract<BridgeCommand, { type: "bridge.send" }>
    >;
    assert.deepEqual(
      sends.map((s) => s.deliveries.map((d) => d.seq)),
      [[1], [2, 3]],
      "what queued while a send was pending goes out as one batch",
    );
    assert.deepEqual(
      p.sent("router.ack").map((e) => e.seq),
      [1, 3],
    );
    assert.deepEqual(
      p.sent("router.pressure").map((e) => e.high),
      [true, false],
      "4 queued messages pass highWater 3; the flush releases the pressure",
    );
    assert.equal(p.context().messagesOut, 5);
  });

  it("blocking outbound part: one delivery at a time, the rest queued while it awaits its peer", () => {
    const p = runPart("blockingOutbound");
    p.emit(partEvents.ready());
    p.part.send(partEvents.deliver(delivery(1, "a")));
    p.part.send(partEvents.deliver(delivery(2, "b")));
    p.emit(partEvents.sent(1, 1, messages("A")));
    p.emit(partEvents.sent(2, 1, messages("B")));
    assert.deepEqual(p.states, [
      "running.connecting",
      "running.idle",
      "running.awaitingPeer",
      "running.idle",
    ]);
    const sends = p.fake.commandsOf("P", "bridge.send") as Array<
      Extract<BridgeCommand, { type: "bridge.send" }>
    >;
    assert.deepEqual(
      sends.map((s) => s.deliveries.map((d) => d.seq)),
      [[1], [2]],
    );
    const acks = p.sent("router.ack");
    assert.deepEqual(
      acks.map((a) => [a.seq, tagsOf(a.feedback)]),
      [
        [1, ["A"]],
        [2, ["B"]],
      ],
    );
  });

  it("bypass part: ready, counts what its bridge answers, sends what it is handed", () => {
    const p = runPart("bypass");
    p.emit(partEvents.ready());
    p.emit(partEvents.received(messages("get")));
    p.emit(partEvents.replied());
    p.part.send(partEvents.deliver(delivery(1, "x")));
    p.part.send(partEvents.crash(new Error("down")));
    assert.deepEqual(p.states, ["running.connecting", "running.ready", "failed"]);
    assert.equal(p.context().messagesIn, 1);
    assert.equal(p.context().messagesOut, 1);
    assert.equal(p.fake.commandsOf("P", "bridge.send").length, 1);
    assert.deepEqual(
      p.sent("router.ready").map((e) => e.part),
      ["P"],
    );
  });

  it("publisher part: says it is alive every heartbeat period on the actor clock, whatever it is doing", () => {
    const fake = createFakeBridge();
    const logic = outboundPartMachine.provide({
      actors: { bridge: fake.bridge },
      guards: { heartbeats: () => true },
      delays: { heartbeat: 1000 },
    }) as AnyActorLogic;
    const input: PartInput = { name: "P", role: "outbound", partType: "PubService" };
    const clock = new SimulatedClock();
    const actor = createActor(createMachine({ invoke: { id: "P", src: logic, input }, on: { "*": {} } }), {
      clock,
    }).start();
    const part = actor.getSnapshot().children.P as AnyActorRef;
    const beats = () => fake.commandsOf("P", "bridge.heartbeat").length;
    clock.increment(5000);
    assert.equal(beats(), 0, "no heartbeat before the part is ready");
    fake.emit("P", partEvents.ready());
    clock.increment(999);
    assert.equal(beats(), 0);
    clock.increment(1);
    assert.equal(beats(), 1);
    // Sending, even blocked at the high-water mark, does not hold the heartbeat back.
    part.send(partEvents.deliver(delivery(1, "a")));
    fake.emit("P", partEvents.blocked());
    clock.increment(1000);
    clock.increment(1000);
    assert.equal(beats(), 3);
    fake.emit("P", partEvents.sent(1, 1));
    clock.increment(1000);
    assert.equal(beats(), 4);
    // A stopped part says nothing more.
    actor.stop();
    clock.increment(5000);
    assert.equal(beats(), 4);
  });

  it("outbound part without heartbeats (a PUSH, a pylm-style PUB) never asks for one", () => {
    const p = runPart("outbound");
    p.emit(partEvents.ready());
    p.clock.increment(10_000);
    assert.equal(p.fake.commandsOf("P", "bridge.heartbeat").length, 0);
  });
});

interface FakePart {
  name: string;
  kind: Kind;
  route?: string;
  block?: boolean;
  restart?: RestartType;
  highWater?: number;
}

/** The router with fake parts (part machines on fake bridges), a simulated clock and no jitter. */
function runRouter(parts: FakePart[], policy: Partial<SupervisionPolicy> = {}, autoReady = true) {
  const fake = createFakeBridge({ autoReady });
  const clock = new SimulatedClock();
  const specs: RouterPartSpec[] = parts.map((p) => ({
    name: p.name,
    role: roleOf(p.kind),
    route: p.route,
    block: p.block === true,
    restart: p.restart ?? "permanent",
    logic: machines[p.kind].provide({ actors: { bridge: fake.bridge } }),
    input: { name: p.name, role: roleOf(p.kind), partType: p.kind, highWater: p.highWater },
  }));
  const fullPolicy: SupervisionPolicy = {
    ...DEFAULT_SUPERVISION,
    maxRestarts: 100,
    ...policy,
    backoff: { ...DEFAULT_SUPERVISION.backoff, jitter: 0, ...policy.backoff },
  };
  const router = createActor(routerMachine, {
    clock,
    input: { server: "test", parts: specs, policy: fullPolicy, now: () => clock.now(), random: () => 0.5 },
  });
  const emitted: Array<RouterEmitted & { at: number }> = [];
  router.on("*", (event) => emitted.push({ ...(event as RouterEmitted), at: clock.now() }));
  router.start();
  const child = (name: string) =>
    (router.getSnapshot().children as Record<string, AnyActorRef | undefined>)[name];
  const record = (name: string) => router.getSnapshot().context.records[name]!;
  /** Crashes a part and lets its failure reach the router (the failed state throws on the next tick). */
  const crash = (name: string) => {
    const part = child(name);
    assert.ok(part, `part ${name} is running`);
    part.send(partEvents.crash(new Error(`${name} crashed`)));
    clock.increment(0);
  };
  const sends = (name: string) =>
    (fake.commandsOf(name, "bridge.send") as Array<Extract<BridgeCommand, { type: "bridge.send" }>>).flatMap(
      (c) => c.deliveries,
    );
  return { router, fake, clock, emitted, child, record, crash, sends };
}

function sendTags(fake: FakeBridge, part: string): string[][] {
  return (fake.commandsOf(part, "bridge.send") as Array<Extract<BridgeCommand, { type: "bridge.send" }>>).map(
    (c) => c.deliveries.flatMap((d) => tagsOf(d.messages)),
  );
}

describe("the router with fake parts", () => {
  it("routes an inbound batch to its outbound and settles it when acknowledged", () => {
    const r = runRouter([
      { name: "Pull", kind: "inbound", route: "Push" },
      { name: "Push", kind: "outbound" },
    ]);
    assert.equal(r.router.getSnapshot().value, "running");
    assert.deepEqual(
      r.emitted.map((e) => e.type),
      ["part.started", "part.started", "server.ready"],
    );
    r.fake.emit("Pull", partEvents.received(messages("a", "b")));
    assert.deepEqual(sendTags(r.fake, "Push"), [["a", "b"]]);
    assert.equal(r.record("Push").pendingMessages, 2);
    r.fake.emit("Push", partEvents.sent(1, 2));
    assert.equal(r.record("Push").pendingMessages, 0);
    assert.equal(r.record("Push").pending.length, 0);
  });

  it("settles what a part acknowledges with its route before routing it, sent at once or held", () => {
    const r = runRouter([
      { name: "Pull", kind: "inbound", route: "Mid" },
      { name: "Mid", kind: "outbound" },
      { name: "Push", kind: "outbound" },
    ]);
    r.fake.emit("Pull", partEvents.received(messages("a")));
    assert.equal(r.record("Mid").pendingMessages, 1);
    // Push is idle: the route goes straight to it, and Mid's delivery 1 is settled.
    r.router.send(routerEvents.ackAndRoute("Mid", 1, messages("x"), "Push", undefined));
    assert.equal(r.record("Mid").pendingMessages, 0);
    assert.deepEqual(sendTags(r.fake, "Push"), [["x"]]);
    // Push is sending: what Mid routes is held for it, and Mid's delivery 2 is settled all the same.
    r.fake.emit("Pull", partEvents.received(messages("b")));
    assert.equal(r.record("Mid").pendingMessages, 1);
    r.router.send(routerEvents.ackAndRoute("Mid", 2, messages("y"), "Push", undefined));
    assert.equal(r.record("Mid").pendingMessages, 0);
    assert.equal(r.record("Mid").pending.length, 0);
    assert.equal(r.record("Push").pendingMessages, 2);
    assert.deepEqual(sendTags(r.fake, "Push"), [["x"]]);
    r.fake.emit("Push", partEvents.sent(1, 1));
    assert.deepEqual(sendTags(r.fake, "Push"), [["x"], ["y"]]);
  });

  it("answers a blocking inbound part with its route's feedback, rerouted once to a second outbound", () => {
    const r = runRouter([
      { name: "Rep", kind: "blockingInbound", route: "Req", block: true },
      { name: "Req", kind: "blockingOutbound", route: "Pub" },
      { name: "Pub", kind: "outbound", route: undefined },
    ]);
    r.fake.emit("Rep", partEvents.received(messages("question")));
    assert.deepEqual(sendTags(r.fake, "Req"), [["question"]]);
    r.fake.emit("Req", partEvents.sent(1, 1, messages("answer")));
    // The feedback goes to the REP waiting for it, and once to the reroute target.
    const replies = r.fake.commandsOf("Rep", "bridge.reply") as Array<
      Extract<BridgeCommand, { type: "bridge.reply" }>
    >;
    assert.deepEqual(tagsOf(replies[0]!.messages), ["answer"]);
    assert.deepEqual(sendTags(r.fake, "Pub"), [["answer"]]);
    r.fake.emit("Pub", partEvents.sent(1, 1));
    assert.equal(r.record("Pub").pendingMessages, 0);
    assert.equal(r.fake.commandsOf("Rep", "bridge.reply").length, 1, "a reroute's feedback goes no further");
  });

  it("holds messages routed to a part while it restarts and delivers them in order once it is ready", () => {
    const r = runRouter(
      [
        { name: "Pull", kind: "inbound", route: "Push" },
        { name: "Push", kind: "outbound" },
      ],
      { backoff: { ...DEFAULT_SUPERVISION.backoff, minMs: 50, jitter: 0 } },
      false,
    );
    r.fake.emit("Pull", partEvents.ready());
    r.fake.emit("Push", partEvents.ready());
    r.crash("Push");
    assert.equal(r.record("Push").status, "restarting");
    r.fake.emit("Pull", partEvents.received(messages("a")));
    r.fake.emit("Pull", partEvents.received(messages("b", "c")));
    assert.deepEqual(sendTags(r.fake, "Push"), [], "nothing is handed to a part that is down");
    assert.equal(r.record("Push").pendingMessages, 3);
    r.clock.increment(49);
    assert.equal(r.fake.instances("Push"), 1, "the backoff is not over");
    r.clock.increment(1);
    assert.equal(r.fake.instances("Push"), 2);
    assert.equal(r.record("Push").status, "starting");
    r.fake.emit("Push", partEvents.ready());
    // Everything held goes out at once, as one send of its deliveries in order, their seqs kept.
    assert.deepEqual(sendTags(r.fake, "Push"), [["a", "b", "c"]]);
    assert.deepEqual(
      r.sends("Push").map((d) => d.seq),
      [1, 2],
    );
    r.fake.emit("Push", partEvents.sent(2, 3));
    assert.equal(r.record("Push").pendingMessages, 0);
    assert.equal(r.record("Push").restarts, 1);
    assert.ok(r.emitted.some((e) => e.type === "part.restarted" && e.part === "Push"));
  });

  it("holds what comes for a part while it sends and hands it over as one event with the acknowledgement", () => {
    const r = runRouter([
      { name: "Pull", kind: "inbound", route: "Push" },
      { name: "Push", kind: "outbound", highWater: 3 },
    ]);
    const delivers = () => r.fake.commandsOf("Push", "bridge.send").length;
    r.fake.emit("Pull", partEvents.received(messages("a")));
    assert.deepEqual(sendTags(r.fake, "Push"), [["a"]], "a lone message goes out at once");
    for (const tag of ["b", "c", "d"]) r.fake.emit("Pull", partEvents.received(messages(tag)));
    assert.equal(delivers(), 1, "nothing more is handed while the send is pending");
    assert.equal(r.record("Push").heldMessages, 3);
    assert.equal(r.fake.commandsOf("Pull", "bridge.pause").length, 0, "at highWater, not past it");
    r.fake.emit("Pull", partEvents.received(messages("e")));
    assert.equal(
      r.fake.commandsOf("Pull", "bridge.pause").length,
      1,
      "past highWater the feeder is held back",
    );
    r.fake.emit("Push", partEvents.sent(1, 1));
    assert.deepEqual(sendTags(r.fake, "Push"), [["a"], ["b", "c", "d", "e"]], "the held ones, as one send");
    assert.deepEqual(
      r.sends("Push").map((d) => d.seq),
      [1, 2, 3, 4, 5],
    );
    assert.equal(r.record("Push").heldMessages, 0);
    assert.equal(r.fake.commandsOf("Pull", "bridge.resume").length, 1, "handed over: the feeder resumes");
    r.fake.emit("Push", partEvents.sent(5, 4));
    assert.equal(r.record("Push").pendingMessages, 0);
    assert.equal(r.child("Push")?.getSnapshot().context.messagesOut, 5);
  });

  it("pauses the feeders of a restarting part past its default highWater and resumes them once it is ready", () => {
    const r = runRouter(
      [
        { name: "PullA", kind: "inbound", route: "Push" },
        { name: "PullB", kind: "inbound", route: "Push" },
        { name: "Push", kind: "outbound" },
      ],
      { backoff: { ...DEFAULT_SUPERVISION.backoff, minMs: 100, jitter: 0 } },
      false,
    );
    for (const name of ["PullA", "PullB", "Push"]) r.fake.emit(name, partEvents.ready());
    // No part set `highWater`: the router holds the default for each.
    assert.equal(r.record("Push").highWater, DEFAULT_HIGH_WATER);
    r.crash("Push");
    assert.equal(r.record("Push").status, "restarting");
    const batch = 1000;
    const batches = DEFAULT_HIGH_WATER / batch;
    for (let i = 0; i < batches; i++) {
      const tags = Array.from({ length: batch }, (_, k) => `m-${i * batch + k}`);
      r.fake.emit(i % 2 === 0 ? "PullA" : "PullB", partEvents.received(messages(...tags)));
    }
    assert.equal(r.record("Push").pendingMessages, DEFAULT_HIGH_WATER);
    assert.equal(r.fake.commandsOf("PullA", "bridge.pause").length, 0, "at highWater, not past it: flowing");
    r.fake.emit("PullA", partEvents.received(messages("one-more")));
    assert.equal(r.fake.commandsOf("PullA", "bridge.pause").length, 1, "PullA paused");
    assert.equal(r.fake.commandsOf("PullB", "bridge.pause").length, 1, "PullB paused");
    assert.deepEqual([...r.record("PullA").pressure], ["Push"]);
    r.clock.increment(99);
    assert.equal(r.fake.commandsOf("PullA", "bridge.resume").length, 0, "still paused during the backoff");
    r.clock.increment(1);
    assert.equal(r.record("Push").status, "starting");
    assert.equal(r.fake.commandsOf("PullA", "bridge.resume").length, 0, "still paused while it starts");
    r.fake.emit("Push", partEvents.ready());
    assert.equal(r.fake.commandsOf("PullA", "bridge.resume").length, 1, "PullA resumed");
    assert.equal(r.fake.commandsOf("PullB", "bridge.resume").length, 1, "PullB resumed");
    assert.equal(r.record("PullA").pressure.size, 0);
    // The backlog goes out in order: nothing held back was lost.
    assert.equal(r.fake.commandsOf("Push", "bridge.send").length, 1, "the backlog goes out as one send");
    assert.equal(r.sends("Push").length, batches + 1, "of every delivery held");
    r.fake.emit("Push", partEvents.sent(batches + 1, DEFAULT_HIGH_WATER + 1));
    assert.equal(r.fake.commandsOf("PullA", "bridge.pause").length, 1, "and is not held back again");
    const tags = sendTags(r.fake, "Push").flat();
    assert.equal(tags.length, DEFAULT_HIGH_WATER + 1);
    assert.equal(tags[0], "m-0");
    assert.equal(tags[tags.length - 1], "one-more");
    assert.equal(r.record("Push").pendingMessages, 0);
  });

  it("redelivers a crashed part's unacknowledged deliveries to its next instance", () => {
    const r = runRouter([
      { name: "Pull", kind: "inbound", route: "Push" },
      { name: "Push", kind: "outbound" },
    ]);
    r.fake.emit("Pull", partEvents.received(messages("a")));
    r.fake.emit("Push", partEvents.sent(1, 1));
    r.fake.emit("Pull", partEvents.received(messages("b")));
    r.fake.emit("Pull", partEvents.received(messages("c")));
    // "b" is being sent, "c" queued behind it; neither was acknowledged when the part crashed.
    r.crash("Push");
    r.clock.increment(DEFAULT_SUPERVISION.backoff.minMs);
    const redelivered = () =>
      r.fake.commands
        .filter((c) => c.part === "Push" && c.instance === 2)
        .flatMap((c) =>
          c.command.type === "bridge.send"
            ? c.command.deliveries.map((d) => [d.seq, ...tagsOf(d.messages)].join(":"))
            : [],
        );
    assert.deepEqual(redelivered(), ["2:b", "3:c"], "only what was not acknowledged, in order, seqs kept");
    r.fake.emit("Push", partEvents.sent(3, 2));
    assert.equal(r.record("Push").pendingMessages, 0);
  });

  it("never hands a restarted blocking inbound part the feedback meant for its crashed instance", () => {
    const r = runRouter([
      { name: "Rep", kind: "blockingInbound", route: "Req", block: true },
      { name: "Req", kind: "blockingOutbound" },
    ]);
    r.fake.emit("Rep", partEvents.received(messages("q1")));
    r.crash("Rep");
    r.clock.increment(DEFAULT_SUPERVISION.backoff.minMs);
    assert.equal(r.fake.instances("Rep"), 2);
    // The new instance's first request has ticket 1 too, like the crashed instance's outstanding one.
    r.fake.emit("Rep", partEvents.received(messages("q2")));
    r.fake.emit("Req", partEvents.sent(1, 1, messages("a1")));
    r.fake.emit("Req", partEvents.sent(2, 1, messages("a2")));
    const replies = r.fake.commands
      .filter((c) => c.part === "Rep" && c.command.type === "bridge.reply")
      .map((c) => [c.instance, ...(c.command.type === "bridge.reply" ? tagsOf(c.command.messages) : [])]);
    assert.deepEqual(replies, [[2, "a2"]]);
  });

  it("one-for-all restarts every part; rest-for-one the failed part and those registered after it", () => {
    const parts: FakePart[] = [
      { name: "A", kind: "inbound", route: "B" },
      { name: "B", kind: "outbound" },
      { name: "C", kind: "inbound", route: "D" },
      { name: "D", kind: "outbound" },
    ];
    const all = runRouter(parts, { strategy: "one-for-all" });
    all.crash("B");
    all.clock.increment(10);
    assert.deepEqual(
      parts.map((p) => [p.name, all.fake.instances(p.name), all.record(p.name).restarts]),
      [
        ["A", 2, 1],
        ["B", 2, 1],
        ["C", 2, 1],
        ["D", 2, 1],
      ],
    );
    assert.equal(all.router.getSnapshot().value, "running");
    // Siblings are stopped in reverse registration order, then restarted in registration order.
    assert.deepEqual(all.fake.log.slice(4), [
      "close:B#1",
      "close:D#1",
      "close:C#1",
      "close:A#1",
      "open:A#2",
      "open:B#2",
      "open:C#2",
      "open:D#2",
    ]);

    const rest = runRouter(parts, { strategy: "rest-for-one" });
    rest.crash("B");
    rest.clock.increment(10);
    assert.deepEqual(
      parts.map((p) => [p.name, rest.fake.instances(p.name), rest.record(p.name).restarts]),
      [
        ["A", 1, 0],
        ["B", 2, 1],
        ["C", 2, 1],
        ["D", 2, 1],
      ],
    );
  });

  it("never restarts a temporary part (not even with its siblings); a transient one only after a failure", () => {
    const r = runRouter(
      [
        { name: "Temp", kind: "outbound", restart: "temporary" },
        { name: "Trans", kind: "outbound", restart: "transient" },
        { name: "Trans2", kind: "outbound", restart: "transient" },
        { name: "Perm", kind: "outbound", restart: "permanent" },
      ],
      {},
    );
    r.crash("Temp");
    r.child("Trans")!.send(partEvents.exit());
    r.crash("Trans2");
    r.child("Perm")!.send(partEvents.exit());
    r.clock.increment(100);
    assert.deepEqual(
      ["Temp", "Trans", "Trans2", "Perm"].map((name) => [
        name,
        r.record(name).status,
        r.fake.instances(name),
      ]),
      [
        ["Temp", "stopped", 1],
        ["Trans", "stopped", 1],
        ["Trans2", "ready", 2],
        ["Perm", "ready", 2],
      ],
    );
    const ends = r.emitted.filter((e) => e.type === "part.failed" || e.type === "part.exited");
    assert.deepEqual(
      ends.map((e) => [e.type, e.part, (e as { restartInMs?: number }).restartInMs !== undefined]),
      [
        ["part.failed", "Temp", false],
        ["part.exited", "Trans", false],
        ["part.failed", "Trans2", true],
        ["part.exited", "Perm", true],
      ],
    );

    const group = runRouter(
      [
        { name: "A", kind: "outbound" },
        { name: "T", kind: "outbound", restart: "temporary" },
      ],
      { strategy: "one-for-all" },
    );
    group.crash("A");
    group.clock.increment(100);
    assert.equal(group.record("A").status, "ready");
    assert.equal(group.record("T").status, "stopped");
    assert.equal(group.fake.instances("T"), 1);
  });

  it("backoff delays grow by the factor, are capped at maxMs, and start over after resetAfterMs", () => {
    const backoff = { minMs: 10, maxMs: 100, factor: 2, jitter: 0, resetAfterMs: 500 };
    const r = runRouter([{ name: "Push", kind: "outbound" }], { backoff });
    const delays: number[] = [];
    const crashAndMeasure = () => {
      const before = r.fake.instances("Push");
      r.crash("Push");
      const crashedAt = r.clock.now();
      while (r.fake.instances("Push") === before) r.clock.increment(1);
      delays.push(r.clock.now() - crashedAt);
    };
    for (let i = 0; i < 6; i++) crashAndMeasure();
    assert.deepEqual(delays, [10, 20, 40, 80, 100, 100]);
    // The router's own record of restart times agrees with the clock.
    const times = r.record("Push").restartTimes;
    assert.deepEqual(
      times.slice(1).map((t, i) => t - times[i]!),
      [20, 40, 80, 100, 100],
    );
    const failed = r.emitted.filter((e) => e.type === "part.failed");
    assert.deepEqual(
      failed.map((e) => (e as { restartInMs: number }).restartInMs),
      [10, 20, 40, 80, 100, 100],
    );
    // Ready for resetAfterMs: the next failure is treated as the first again.
    r.clock.increment(500);
    crashAndMeasure();
    assert.equal(delays[6], 10);
  });

  it("keeps jittered delays within ±jitter of the exponential delay, and under maxMs", () => {
    const backoff = { minMs: 100, maxMs: 400, factor: 2, jitter: 0.25, resetAfterMs: 1000 };
    for (const [random, attempt, expected] of [
      [0, 1, 75],
      [0.999_999, 1, 125],
      [0, 3, 300],
      [0.999_999, 3, 400],
      [0.5, 10, 400],
    ] as const) {
      assert.equal(backoffDelay(backoff, attempt, random), expected, `attempt ${attempt}, random ${random}`);
    }
  });

  it("escalates past maxRestarts within withinMs, stopping every part in reverse order", () => {
    const r = runRouter(
      [
        { name: "A", kind: "inbound", route: "B" },
        { name: "B", kind: "outbound" },
        { name: "C", kind: "outbound" },
      ],
      { maxRestarts: 3, withinMs: 1000 },
    );
    for (let i = 0; i < 3; i++) {
      r.crash(i % 2 === 0 ? "B" : "C");
      r.clock.increment(10);
    }
    assert.equal(r.router.getSnapshot().value, "running", "3 restarts are within the intensity");
    r.crash("B");
    const snapshot = r.router.getSnapshot();
    assert.equal(snapshot.status, "done");
    assert.equal(snapshot.value, "escalated");
    const escalated = r.emitted.find((e) => e.type === "server.escalated") as Extract<
      RouterEmitted,
      { type: "server.escalated" }
    >;
    assert.equal(escalated.part, "B");
    assert.equal(escalated.reason, "intensity");
    assert.match(String((escalated.error as Error).message), /more than 3 restarts within 1000 ms/);
    assert.equal(((escalated.error as Error).cause as Error).message, "B crashed");
    assert.deepEqual(r.fake.log.slice(-3), ["close:B#3", "close:C#2", "close:A#1"]);
    for (const name of ["A", "B", "C"]) assert.equal(r.fake.isOpen(name), false);
  });

  it("counts only restarts inside the window towards the intensity", () => {
    const r = runRouter([{ name: "B", kind: "outbound" }], { maxRestarts: 2, withinMs: 1000 });
    for (let i = 0; i < 10; i++) {
      r.crash("B");
      r.clock.increment(600);
    }
    assert.equal(r.router.getSnapshot().value, "running");
    assert.equal(r.record("B").restarts, 10);
  });

  it("stops every part in reverse registration order", () => {
    const r = runRouter([
      { name: "Cache", kind: "bypass" },
      { name: "Pull", kind: "inbound", route: "Push" },
      { name: "Push", kind: "outbound" },
    ]);
    r.router.send({ type: "router.stop" });
    assert.equal(r.router.getSnapshot().value, "stopped");
    assert.deepEqual(r.fake.log.slice(3), ["close:Push#1", "close:Pull#1", "close:Cache#1"]);
  });

  it("escalates at start when a part fails before it was ever ready", () => {
    const r = runRouter(
      [
        { name: "Pull", kind: "inbound", route: "Push" },
        { name: "Push", kind: "outbound" },
      ],
      {},
      false,
    );
    r.fake.emit("Pull", partEvents.ready());
    r.fake.emit("Push", partEvents.fault(Object.assign(new Error("bind failed"), { code: "EADDRINUSE" })));
    r.clock.increment(0);
    const escalated = r.emitted.find((e) => e.type === "server.escalated") as Extract<
      RouterEmitted,
      { type: "server.escalated" }
    >;
    assert.equal(escalated.reason, "start");
    assert.equal(escalated.part, "Push");
    assert.equal(r.fake.isOpen("Pull"), false);
    assert.equal(
      r.emitted.some((e) => e.type === "server.ready"),
      false,
    );
  });
});

describe("supervision policy", () => {
  it("picks the children a failure takes down by strategy, in registration order", () => {
    const order = ["a", "b", "c", "d"];
    assert.deepEqual(affectedChildren("one-for-one", order, "b"), ["b"]);
    assert.deepEqual(affectedChildren("one-for-all", order, "b"), ["a", "b", "c", "d"]);
    assert.deepEqual(affectedChildren("rest-for-one", order, "b"), ["b", "c", "d"]);
  });

  it("restarts permanent parts always, transient ones after failures, temporary ones never", () => {
    assert.deepEqual(
      (["permanent", "transient", "temporary"] as const).map((type) => [
        shouldRestart(type, true),
        shouldRestart(type, false),
      ]),
      [
        [true, true],
        [true, false],
        [false, false],
      ],
    );
  });

  it("allows maxRestarts restarts within withinMs, not one more", () => {
    const policy = { ...DEFAULT_SUPERVISION, maxRestarts: 2, withinMs: 100 };
    assert.equal(withinIntensity(policy, [], 0), true);
    assert.equal(withinIntensity(policy, [0], 50), true);
    assert.equal(withinIntensity(policy, [0, 50], 99), false);
    assert.equal(withinIntensity(policy, [0, 50], 100), true, "the first restart left the window");
  });

  it("validates supervision options, naming the option and the value", () => {
    assert.deepEqual(resolveSupervision(undefined), DEFAULT_SUPERVISION);
    const policy = resolveSupervision({ strategy: "rest-for-one", backoff: { maxMs: 50 } });
    assert.equal(policy.strategy, "rest-for-one");
    assert.equal(policy.backoff.maxMs, 50);
    assert.equal(policy.backoff.minMs, DEFAULT_SUPERVISION.backoff.minMs);
    assert.throws(
      () => resolveSupervision({ strategy: "one-for-some" }),
      (error) => isPalmError(error, "PALM_ERR_OPTION_INVALID") && /supervision\.strategy/.test(error.message),
    );
    assert.throws(
      () => resolveSupervision({ backoff: { minMs: 100, maxMs: 10 } }),
      (error) =>
        isPalmError(error, "PALM_ERR_OPTION_INVALID") && /supervision\.backoff\.maxMs/.test(error.message),
    );
    assert.throws(
      () => resolveSupervision({ maxRestarts: -1 }),
      (error) =>
        isPalmError(error, "PALM_ERR_OPTION_INVALID") && /supervision\.maxRestarts/.test(error.message),
    );
  });
});
