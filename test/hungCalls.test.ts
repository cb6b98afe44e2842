import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { type MasterCluster, startMaster } from "../src/testing/startMaster.js";

// An async function that never settles (a request without a timeout, a lost callback) and ignores its
// AbortSignal: the caller gets PALM_ERR_TIMEOUT at the deadline, and the worker must not keep the call's
// credit for good. Before, a worker with `prefetch` such calls took no work at all while it kept beating:
// every later call ended "no worker took it", for as long as the worker lived.

let cluster: MasterCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe("async calls that never settle", () => {
  it("free their worker's credit soon after their deadline: the worker takes work again", async () => {
    let hung = 0;
    cluster = await startMaster({
      workers: 1,
      // The hung function's deadline is short; every other call has 20 s, plenty for a loaded machine.
      master: { callTimeoutMs: 20_000 },
      worker: { prefetch: 2, timeouts: { hang: 1000 } },
      functions: {
        hang: () => {
          hung++;
          return new Promise<Uint8Array>(() => undefined);
        },
        echo: (payload) => payload,
      },
      client: { timeoutMs: 60_000 },
    });
    const { client } = cluster;
    // As many hung calls as the worker's whole credit.
    const hangs = [1, 2].map(() =>
      assert.rejects(client.eval("server.hang", Buffer.from("h")), { code: "PALM_ERR_TIMEOUT" }),
    );
    await Promise.all(hangs);
    assert.equal(hung, 2);
    // The next calls run on the same worker (before: each timed out, no worker took it).
    for (const text of ["a", "b", "c"]) {
      assert.equal(Buffer.from(await client.eval("server.echo", Buffer.from(text))).toString(), text);
    }
  });
});
