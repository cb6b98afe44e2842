import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isPalmError } from "../src/errors.js";
import { ABANDON_AFTER_MS, DeadlineContext } from "../src/worker/callContext.js";

// A call's context has one timer, made only for an async call with a deadline (`watch`): it aborts the
// signal at the deadline, then abandons the call ABANDON_AFTER_MS later unless the call settled first.

/** The context's timers are unref'd (a worker's process does not wait for them): the test holds the loop. */
async function held<T>(promise: Promise<T>): Promise<T> {
  const hold = setTimeout(() => undefined, 60_000);
  try {
    return await promise;
  } finally {
    clearTimeout(hold);
  }
}

describe("a call's deadline context", () => {
  it("aborts the signal at the deadline, then abandons the call, in that order, once each", async () => {
    const deadlineAt = Date.now() + 50;
    const context = new DeadlineContext(deadlineAt);
    const seen: string[] = [];
    const signal = context.signal;
    signal.addEventListener("abort", () => seen.push("abort"));
    await held(
      new Promise<void>((resolve) => {
        context.watch(() => {
          seen.push("abandon");
          resolve();
        });
      }),
    );
    assert.deepEqual(seen, ["abort", "abandon"]);
    assert.ok(isPalmError(signal.reason, "PALM_ERR_TIMEOUT"), String(signal.reason));
    assert.ok(
      Date.now() >= deadlineAt + ABANDON_AFTER_MS,
      "abandoned no sooner than its delay after the deadline",
    );
    context.dispose();
  });

  it("a signal first read after the deadline is aborted already; one read before it fires from the watch", async () => {
    const late = new DeadlineContext(Date.now() - 1);
    assert.equal(late.signal.aborted, true);
    const context = new DeadlineContext(Date.now() + 30);
    context.watch(() => undefined);
    const signal = context.signal;
    assert.equal(signal.aborted, false);
    await held(new Promise((resolve) => signal.addEventListener("abort", resolve)));
    assert.equal(signal.aborted, true);
    context.dispose();
  });

  it("a call settled before its deadline is neither aborted nor abandoned; a call without one is never watched", async () => {
    const context = new DeadlineContext(Date.now() + 30);
    const signal = context.signal;
    let abandoned = 0;
    context.watch(() => abandoned++);
    context.dispose();
    const none = new DeadlineContext();
    none.watch(() => abandoned++);
    // Past the deadline and the abandon delay, on a timer of the test's own.
    await new Promise((resolve) => setTimeout(resolve, 30 + ABANDON_AFTER_MS + 100));
    assert.equal(signal.aborted, false);
    assert.equal(none.signal.aborted, false);
    assert.equal(abandoned, 0);
  });
});
