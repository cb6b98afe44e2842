import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { MuxWorker } from "../actors/worker.js";
import { RemoteError } from "../src/errors.js";
import { type MasterCluster, startMaster } from "../src/testing/startMaster.js";

// A MuxWorker function may yield nothing for a message (it filters). The master must learn that the call
// ended: before, the message stayed in its ledger until its deadline and held its worker's credit, so a
// worker given `prefetch` such messages took no work at all until their deadlines (60 s by default), and
// answered each caller then with a misleading "a worker holds it".

let cluster: MasterCluster | undefined;
let worker: MuxWorker | undefined;
afterEach(async () => {
  await worker?.stop();
  await cluster?.stop();
  worker = cluster = undefined;
});

/** Starts a master and one MuxWorker (prefetch 2) running `functions`; resolves with the client. */
async function startMux(functions: Record<string, (payload: Uint8Array) => unknown>) {
  cluster = await startMaster({
    workers: 0,
    master: { callTimeoutMs: 30_000 },
    client: { timeoutMs: 20_000 },
  });
  worker = new MuxWorker({
    name: "mux",
    dbAddress: cluster.addresses.dbAddress,
    prefetch: 2,
    logLevel: "silent",
    functions,
  });
  await worker.start();
  return cluster.client;
}

describe("MuxWorker functions that yield nothing, or throw after some items", () => {
  it("end their call at once: the worker's credit comes back and the job gets every other result", async () => {
    const client = await startMux({
      // "-" yields nothing; anything else yields itself twice.
      twice: function* (payload: Uint8Array) {
        if (Buffer.from(payload).toString() !== "-") yield* [payload, payload];
      },
    });
    // Ten messages that yield nothing (five times the worker's credit) among five that yield two each.
    const payloads = ["a", "-", "-", "b", "-", "-", "-", "c", "-", "-", "d", "-", "-", "-", "e"].map((p) =>
      Buffer.from(p),
    );
    const results: string[] = [];
    for await (const result of client.job("server.twice", payloads, { messages: 10 })) {
      assert.ok(!(result instanceof RemoteError), `no error result: ${String(result)}`);
      results.push(Buffer.from(result).toString());
    }
    assert.deepEqual(results.sort(), ["a", "a", "b", "b", "c", "c", "d", "d", "e", "e"]);
    assert.equal(cluster!.master.ledger.size, 0, "every message settled");
    assert.equal(client.unexpectedResults, 0, "the end-of-call markers never reach the client");
  });

  it("an error thrown after some items is one more result: the items already yielded are not lost", async () => {
    const client = await startMux({
      partly: async function* (payload: Uint8Array) {
        yield payload;
        yield Buffer.from("second");
        throw new Error("broke after two");
      },
    });
    const results: string[] = [];
    for await (const result of client.job("server.partly", [Buffer.from("first")], { messages: 3 })) {
      results.push(
        result instanceof RemoteError ? `error: ${result.remoteCause}` : Buffer.from(result).toString(),
      );
    }
    // Before, the two items were dropped for one error result, and the job waited for the rest in vain.
    assert.deepEqual(results.sort(), ["error: Error: broke after two", "first", "second"]);
  });
});
