// OTP conformance: the cases of OTP's stdlib `supervisor_SUITE` that apply to palm, ported to palm's router
// (the supervisor) on xstate's SimulatedClock. Each test is named after its OTP case; docs/testing-restarts.md
// maps every case of the suite to its test here, or says why palm has none or deliberately differs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { partEvents } from "../machines/events.js";
import type { SupervisionStrategy } from "../machines/supervision.js";
import type { RestartType } from "../machines/types.js";
import { isPalmError } from "../src/errors.js";
import { resolveSupervision } from "../src/supervisionOptions.js";
import { type SimulatedPart, type SimulatedRouter, simulateRouter } from "../src/testing/simulatedRouter.js";

/** OTP's `{Strategy, MaxR, MaxT}` as a palm policy: restarts after 1 ms, no jitter. */
function otp(strategy: SupervisionStrategy, maxRestarts: number, periodSeconds: number) {
  return {
    strategy,
    maxRestarts,
    withinMs: periodSeconds * 1000,
    backoff: { minMs: 1, maxMs: 1, resetAfterMs: 1 },
  };
}

/** OTP's `supervisor_1` workers: outbound parts named child1, child2, … */
function children(...restarts: RestartType[]): SimulatedPart[] {
  return restarts.map((restart, i) => ({ name: `child${i + 1}`, kind: "outbound", restart }));
}

/** Starts a supervisor whose children report ready by hand (so a test can make one fail while starting). */
function startManual(parts: SimulatedPart[], policy: ReturnType<typeof otp>): SimulatedRouter {
  const r = simulateRouter(parts, { policy, autoReady: false });
  for (const part of parts) r.fake.emit(part.name, partEvents.ready());
  assert.equal(r.state(), "running");
  return r;
}

/** Lets the backoff run out so a restart the router decided happens (and auto-ready parts become ready). */
function settle(r: SimulatedRouter): void {
  r.clock.increment(1);
}

/** A starting instance fails before it is ready, as OTP's `supervisor_1:start_child(error)` does. */
function failWhileStarting(r: SimulatedRouter, name: string): void {
  assert.equal(r.record(name).status, "starting", `${name} is starting`);
  r.fake.emit(name, partEvents.fault(new Error(`${name} failed to start`)));
  r.clock.increment(0);
}

function statuses(r: SimulatedRouter, names: string[]): string[][] {
  return names.map((name) => [name, r.record(name).status, String(r.fake.instances(name))]);
}

describe("OTP supervisor_SUITE: normal_termination", () => {
  it("permanent_normal: a permanent child that exits normally is restarted", () => {
    const r = simulateRouter(children("permanent"), { policy: otp("one-for-one", 2, 3600) });
    r.exit("child1");
    settle(r);
    assert.deepEqual(statuses(r, ["child1"]), [["child1", "ready", "2"]]);
    assert.equal(r.record("child1").restarts, 1);
  });

  it("transient_normal: a transient child that exits normally is not restarted", () => {
    const r = simulateRouter(children("transient"), { policy: otp("one-for-one", 2, 3600) });
    r.exit("child1");
    r.clock.increment(100);
    assert.deepEqual(statuses(r, ["child1"]), [["child1", "stopped", "1"]]);
    assert.equal(r.fake.isOpen("child1"), false);
    const exited = r.emitted.find((e) => e.type === "part.exited");
    assert.deepEqual(exited && { ...exited, at: 0 }, {
      type: "part.exited",
      part: "child1",
      restartInMs: undefined,
      at: 0,
    });
  });

  it("temporary_normal: a temporary child that exits normally is not restarted", () => {
    const r = simulateRouter(children("temporary"), { policy: otp("one-for-one", 2, 3600) });
    r.exit("child1");
    r.clock.increment(100);
    assert.deepEqual(statuses(r, ["child1"]), [["child1", "stopped", "1"]]);
    assert.equal(r.state(), "running");
  });
});

describe("OTP supervisor_SUITE: shutdown_termination (palm's normal exit stands for shutdown)", () => {
  it("permanent_shutdown: a permanent child is restarted after each shutdown", () => {
    const r = simulateRouter(children("permanent"), { policy: otp("one-for-one", 2, 3600) });
    r.exit("child1");
    settle(r);
    r.exit("child1");
    settle(r);
    assert.deepEqual(statuses(r, ["child1"]), [["child1", "ready", "3"]]);
    assert.equal(r.record("child1").restarts, 2);
  });

  it("transient_shutdown: a transient child that shuts down is not restarted", () => {
    const r = simulateRouter(children("transient"), { policy: otp("one-for-one", 2, 3600) });
    r.exit("child1");
    r.clock.increment(100);
    assert.deepEqual(statuses(r, ["child1"]), [["child1", "stopped", "1"]]);
  });

  it("temporary_shutdown: a temporary child that shuts down is not restarted", () => {
    const r = simulateRouter(children("temporary"), { policy: otp("one-for-one", 2, 3600) });
    r.exit("child1");
    r.clock.increment(100);
    assert.deepEqual(statuses(r, ["child1"]), [["child1", "stopped", "1"]]);
  });
});

describe("OTP supervisor_SUITE: abnormal_termination", () => {
  it("permanent_abnormal: a permanent child that fails is restarted", () => {
    const r = simulateRouter(children("permanent"), { policy: otp("one-for-one", 2, 3600) });
    r.crash("child1");
    settle(r);
    assert.deepEqual(statuses(r, ["child1"]), [["child1", "ready", "2"]]);
  });

  it("transient_abnormal: a transient child that fails is restarted", () => {
    const r = simulateRouter(children("transient"), { policy: otp("one-for-one", 2, 3600) });
    r.crash("child1");
    settle(r);
    assert.deepEqual(statuses(r, ["child1"]), [["child1", "ready", "2"]]);
  });

  it("temporary_abnormal: a temporary child that fails is not restarted", () => {
    const r = simulateRouter(children("temporary"), { policy: otp("one-for-one", 2, 3600) });
    r.crash("child1");
    r.clock.increment(100);
    assert.deepEqual(statuses(r, ["child1"]), [["child1", "stopped", "1"]]);
    const failed = r.emitted.filter((e) => e.type === "part.failed");
    assert.deepEqual(
      failed.map((e) => [e.part, e.type === "part.failed" ? e.restartInMs : "?"]),
      [["child1", undefined]],
    );
  });

  it("temporary_bystander: a temporary child taken down by a sibling is not restarted, and costs no restart", () => {
    for (const strategy of ["one-for-all", "rest-for-one"] as const) {
      const r = simulateRouter(children("permanent", "temporary"), { policy: otp(strategy, 2, 0.3) });
      r.exit("child1");
      r.clock.increment(350);
      assert.equal(r.state(), "running", strategy);
      assert.deepEqual(
        statuses(r, ["child1", "child2"]),
        [
          ["child1", "ready", "2"],
          ["child2", "stopped", "1"],
        ],
        strategy,
      );
      assert.deepEqual(r.router.getSnapshot().context.restartHistory.length, 1, strategy);
    }
  });
});

describe("OTP supervisor_SUITE: restart strategies, intensity and escalation", () => {
  it("multiple_restarts: failures spaced wider than the period never exceed the intensity", () => {
    const r = simulateRouter(children("permanent"), { policy: otp("one-for-one", 1, 1) });
    r.crash("child1");
    for (let i = 0; i < 3; i++) {
      r.clock.increment(2100);
      r.crash("child1");
    }
    settle(r);
    assert.equal(r.state(), "running");
    assert.equal(r.record("child1").restarts, 4);
  });

  it("multiple_restarts at the period's edge: a restart exactly the period ago no longer counts (palm differs)", () => {
    // OTP keeps restarts with Now - T =< Period (whole seconds); palm's window is exclusive, in milliseconds.
    const r = simulateRouter(children("permanent"), { policy: otp("one-for-one", 1, 1) });
    r.crash("child1");
    r.clock.increment(1000);
    r.crash("child1");
    settle(r);
    assert.equal(r.state(), "running");
    r.clock.increment(998);
    r.crash("child1");
    assert.equal(r.state(), "escalated", "a restart 999 ms ago is inside a 1000 ms window");
  });

  it("one_for_one: only the failed child restarts; the third failure within the period escalates", () => {
    const r = simulateRouter(children("permanent", "permanent"), { policy: otp("one-for-one", 2, 3600) });
    r.crash("child1");
    settle(r);
    assert.deepEqual(statuses(r, ["child1", "child2"]), [
      ["child1", "ready", "2"],
      ["child2", "ready", "1"],
    ]);
    r.crash("child2");
    settle(r);
    assert.equal(r.state(), "running");
    r.crash("child1");
    assert.equal(r.state(), "escalated");
    assert.equal(r.fake.isOpen("child1") || r.fake.isOpen("child2"), false, "every child is stopped");
    const escalated = r.emitted.find((e) => e.type === "server.escalated");
    assert.equal(escalated?.type === "server.escalated" && escalated.reason, "intensity");
  });

  it("one_for_one_escalation: a child failing at every restart escalates, taking its sibling down", () => {
    const r = startManual(children("permanent", "permanent"), otp("one-for-one", 4, 3600));
    r.crash("child1");
    let restarts = 0;
    while (r.state() === "running") {
      settle(r);
      restarts++;
      failWhileStarting(r, "child1");
    }
    assert.equal(r.state(), "escalated");
    assert.equal(restarts, 4, "four restarts are within the intensity, the fifth failure is not");
    assert.equal(r.fake.isOpen("child2"), false);
    assert.equal(r.record("child2").status, "stopped");
  });

  it("one_for_all: every child restarts when one fails; the third failure within the period escalates", () => {
    const r = simulateRouter(children("permanent", "permanent"), { policy: otp("one-for-all", 2, 3600) });
    r.crash("child1");
    settle(r);
    assert.deepEqual(statuses(r, ["child1", "child2"]), [
      ["child1", "ready", "2"],
      ["child2", "ready", "2"],
    ]);
    assert.equal(r.fake.isOpen("child2"), true);
    r.crash("child1");
    settle(r);
    assert.equal(r.state(), "running");
    r.crash("child2");
    assert.equal(r.state(), "escalated");
  });

  it("one_for_all: the failed child's siblings stop in reverse start order and start again in start order", () => {
    const r = simulateRouter(children("permanent", "permanent", "permanent"), {
      policy: otp("one-for-all", 2, 3600),
    });
    r.crash("child1");
    settle(r);
    assert.deepEqual(r.fake.log.slice(3), [
      "close:child1#1",
      "close:child3#1",
      "close:child2#1",
      "open:child1#2",
      "open:child2#2",
      "open:child3#2",
    ]);
  });

  it("one_for_all_escalation: a sibling failing at every restart escalates", () => {
    const r = startManual(children("permanent", "permanent"), otp("one-for-all", 4, 3600));
    r.crash("child1");
    while (r.state() === "running") {
      settle(r);
      r.fake.emit("child1", partEvents.ready());
      failWhileStarting(r, "child2");
    }
    assert.equal(r.state(), "escalated");
    assert.equal(r.record("child1").restarts, 4);
    assert.equal(r.fake.isOpen("child1"), false);
  });

  it("one_for_all_other_child_fails_restart: a restarted child is stopped again when a sibling fails to start", () => {
    const r = startManual(children("permanent", "permanent"), otp("one-for-all", 3, 3600));
    r.crash("child1");
    settle(r);
    r.fake.emit("child1", partEvents.ready());
    failWhileStarting(r, "child2");
    assert.equal(r.fake.isOpen("child1"), false, "child1's second instance was stopped");
    assert.ok(r.fake.log.includes("close:child1#2"));
    settle(r);
    r.fake.emit("child1", partEvents.ready());
    r.fake.emit("child2", partEvents.ready());
    assert.equal(r.state(), "running");
    assert.deepEqual(statuses(r, ["child1", "child2"]), [
      ["child1", "ready", "3"],
      ["child2", "ready", "3"],
    ]);
  });

  it("rest_for_one: the failed child and those started after it restart; the third failure escalates", () => {
    const r = simulateRouter(children("permanent", "permanent", "permanent"), {
      policy: otp("rest-for-one", 2, 3600),
    });
    r.crash("child2");
    settle(r);
    assert.deepEqual(statuses(r, ["child1", "child2", "child3"]), [
      ["child1", "ready", "1"],
      ["child2", "ready", "2"],
      ["child3", "ready", "2"],
    ]);
    r.crash("child3");
    settle(r);
    assert.deepEqual(statuses(r, ["child1", "child2", "child3"]), [
      ["child1", "ready", "1"],
      ["child2", "ready", "2"],
      ["child3", "ready", "3"],
    ]);
    r.crash("child2");
    assert.equal(r.state(), "escalated");
  });

  it("rest_for_one_escalation: a later child failing at every restart escalates", () => {
    const r = startManual(children("permanent", "permanent"), otp("rest-for-one", 4, 3600));
    r.crash("child1");
    while (r.state() === "running") {
      settle(r);
      if (r.record("child1").status === "starting") r.fake.emit("child1", partEvents.ready());
      failWhileStarting(r, "child2");
    }
    assert.equal(r.state(), "escalated");
    assert.equal(r.fake.isOpen("child1"), false);
    // child1 restarted with child2 once (rest-for-one from child1); then only child2 restarted.
    assert.equal(r.record("child1").restarts, 1);
  });

  it("rest_for_one_other_child_fails_restart: an earlier child is not restarted when a later one fails to start", () => {
    const r = startManual(children("permanent", "permanent"), otp("rest-for-one", 3, 3600));
    r.crash("child1");
    settle(r);
    r.fake.emit("child1", partEvents.ready());
    failWhileStarting(r, "child2");
    settle(r);
    r.fake.emit("child2", partEvents.ready());
    assert.equal(r.state(), "running");
    assert.deepEqual(statuses(r, ["child1", "child2"]), [
      ["child1", "ready", "2"],
      ["child2", "ready", "3"],
    ]);
  });

  it("hanging_restart_loop: a supervisor stops at once while a child hangs in its restart loop", () => {
    const r = startManual(children("permanent"), otp("one-for-one", 8, 10));
    r.crash("child1");
    settle(r);
    failWhileStarting(r, "child1");
    assert.equal(r.record("child1").status, "restarting");
    r.router.send({ type: "router.stop" });
    assert.equal(r.state(), "stopped");
    r.clock.increment(10_000);
    assert.equal(r.fake.instances("child1"), 2, "no restart after the supervisor stopped");
    assert.equal(r.fake.isOpen("child1"), false);
  });
});

describe("OTP supervisor_SUITE: start, stop and flags", () => {
  it("sup_start_fail: a child that fails before it was ever started fails the supervisor's start", () => {
    const r = simulateRouter(children("permanent", "permanent"), {
      policy: otp("one-for-one", 2, 3600),
      autoReady: false,
    });
    r.fake.emit("child1", partEvents.ready());
    r.fake.emit("child2", partEvents.fault(new Error("cannot bind")));
    r.clock.increment(0);
    assert.equal(r.state(), "escalated");
    const escalated = r.emitted.find((e) => e.type === "server.escalated");
    assert.equal(escalated?.type === "server.escalated" && escalated.reason, "start");
    assert.equal(r.fake.isOpen("child1"), false);
    assert.equal(
      r.emitted.some((e) => e.type === "server.ready"),
      false,
    );
  });

  it("sup_stop_infinity: stopping the supervisor stops every child, the last started first", () => {
    const r = simulateRouter(children("permanent", "permanent", "permanent"), {
      policy: otp("one-for-one", 2, 3600),
    });
    r.router.send({ type: "router.stop" });
    assert.equal(r.state(), "stopped");
    assert.deepEqual(r.fake.log.slice(3), ["close:child3#1", "close:child2#1", "close:child1#1"]);
  });

  it("sup_flags: an invalid strategy, intensity or period is rejected, naming the option", () => {
    for (const [options, option] of [
      [{ strategy: "none-for-one" }, "supervision.strategy"],
      [{ maxRestarts: Number.POSITIVE_INFINITY }, "supervision.maxRestarts"],
      [{ maxRestarts: 1.5 }, "supervision.maxRestarts"],
      [{ withinMs: 0 }, "supervision.withinMs"],
    ] as const) {
      assert.throws(
        () => resolveSupervision(options),
        (error) => isPalmError(error, "PALM_ERR_OPTION_INVALID") && error.message.includes(option),
        option,
      );
    }
    // palm differs on purpose: OTP rejects an infinite period, palm takes it as a lifetime restart budget.
    assert.equal(
      resolveSupervision({ withinMs: Number.POSITIVE_INFINITY }).withinMs,
      Number.POSITIVE_INFINITY,
    );
  });
});
