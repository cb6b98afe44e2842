import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createFunctionRunner } from "../actors/functionRunner.js";
import type { Logger } from "../src/logger.js";
import { createMessage } from "../src/message.js";

/** A logger that records what is logged at error level. */
function recordingLogger() {
  const lines: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  const logger = {
    error: (fields: Record<string, unknown>, msg: string) => lines.push({ fields, msg }),
  } as unknown as Logger;
  return { logger, lines };
}

describe("user function errors", () => {
  it("are logged with their stack once per function per interval, with a count, and each answered", () => {
    const { logger, lines } = recordingLogger();
    const run = createFunctionRunner(
      (fn) =>
        fn === "bad"
          ? () => {
              throw new Error("boom");
            }
          : fn === "worse"
            ? () => {
                throw new TypeError("bang");
              }
            : undefined,
      logger,
    );
    const results = [];
    for (let i = 0; i < 1000; i++) results.push(...(run(createMessage({ function: "s.bad" })) as unknown[]));
    for (let i = 0; i < 10; i++) results.push(...(run(createMessage({ function: "s.worse" })) as unknown[]));
    assert.equal(results.length, 1010);
    assert.equal((results[0] as { error?: string }).error, "Error: boom");
    assert.equal(lines.length, 2, "one line per function within the interval");
    assert.deepEqual(
      lines.map((l) => [l.fields.function, l.fields.count, (l.fields.err as Error).message]),
      [
        ["bad", 1, "boom"],
        ["worse", 1, "bang"],
      ],
    );
  });

  it("pass the call's context as the second argument; one-argument functions keep working", async () => {
    const { logger } = recordingLogger();
    let seen: unknown;
    const run = createFunctionRunner(
      (fn) =>
        fn === "two"
          ? (payload: Uint8Array, context: { signal: AbortSignal }) => {
              seen = context.signal;
              return payload;
            }
          : (payload: Uint8Array) => payload,
      logger,
    );
    const one = run(createMessage({ function: "s.one", payload: Buffer.from("a") }));
    const two = run(createMessage({ function: "s.two", payload: Buffer.from("b") }));
    assert.equal(Buffer.from((one as { payload: Uint8Array }[])[0]!.payload).toString(), "a");
    assert.equal(Buffer.from((two as { payload: Uint8Array }[])[0]!.payload).toString(), "b");
    assert.ok(seen instanceof AbortSignal);
    assert.equal((seen as AbortSignal).aborted, false, "no deadline: never fires");
  });
});
