import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createActor, setup } from "xstate";
import { isPalmError } from "../src/errors.js";
import { type InspectorEvent, InspectorStore, stateValueToPath } from "../src/inspector/index.js";

const part = {
  name: "pull",
  kind: "inbound",
  partType: "PullService",
  state: "binding",
  restarts: 0,
  messagesIn: 0,
  messagesOut: 0,
  errors: 0,
} as const;

describe("InspectorStore", () => {
  it("counts, patches and snapshots parts without sharing its own objects", () => {
    const store = new InspectorStore({ server: "hub", parts: [part] });
    const before = store.snapshot();
    store.increment("pull", "messagesIn");
    store.increment("pull", "messagesIn", 4);
    store.updatePart("pull", { state: "running.ready", lastError: "boom" });
    assert.equal(before.parts[0]?.messagesIn, 0, "an earlier snapshot does not change");
    assert.deepEqual(store.snapshot().parts[0], {
      ...part,
      messagesIn: 5,
      state: "running.ready",
      lastError: "boom",
    });
  });

  it("rejects updates to a part it does not know with PALM_ERR_PART_UNKNOWN", () => {
    const store = new InspectorStore({ server: "hub" });
    assert.throws(
      () => store.increment("ghost", "errors"),
      (error: unknown) => isPalmError(error, "PALM_ERR_PART_UNKNOWN"),
    );
  });

  it("stamps events and delivers them to subscribers until they unsubscribe", () => {
    const store = new InspectorStore({ server: "hub", parts: [part] });
    const seen: InspectorEvent[] = [];
    const unsubscribe = store.subscribe((event) => seen.push(event));
    store.emit({ type: "part.restarted", part: "pull", at: 5 });
    unsubscribe();
    store.emit({ type: "part.failed", part: "pull" });
    assert.deepEqual(seen, [{ type: "part.restarted", part: "pull", at: 5 }]);
  });
});

describe("stateValueToPath", () => {
  it("flattens atomic, nested and parallel state values", () => {
    assert.equal(stateValueToPath("idle"), "idle");
    assert.equal(stateValueToPath({ running: "ready" }), "running.ready");
    assert.equal(
      stateValueToPath({ running: { a: "idle", b: { c: "busy" } } }),
      "running.a.idle,running.b.c.busy",
    );
  });

  it("reads a running actor's snapshot", () => {
    const machine = setup({}).createMachine({
      id: "p",
      type: "parallel",
      states: {
        in: { initial: "idle", states: { idle: {} } },
        out: { initial: "ready", states: { ready: {} } },
      },
    });
    const actor = createActor(machine).start();
    assert.equal(stateValueToPath(actor.getSnapshot().value), "in.idle,out.ready");
    actor.stop();
  });
});
