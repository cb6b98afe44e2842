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

describe("MuxWorker functions that yield nothing", () => {
  it("end their call at once: the worker's credit comes back and the job gets every other result", async () => {
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
      functions: {
        // "-" yields nothing; anything else yields itself twice.
        twice: function* (payload: Uint8Array) {
          if (Buffer.from(payload).toString() !== "-") yield* [payload, payload];
        },
      },
    });
    await worker.start();
    // Ten messages that yield nothing (five times the worker's credit) among five that yield two each.
    const payloads = ["a", "-", "-", "b", "-", "-", "-", "c", "-", "-", "d", "-", "-", "-", "e"];
    const results: string[] = [];
    for await (const result of cluster.client.job(
      "server.twice",
      payloads.map((p) => Buffer.from(p)),
      {
        messages: 10,
      },
    )) {
      assert.ok(!(result instanceof RemoteError), `no error result: ${String(result)}`);
      results.push(Buffer.from(result).toString());
    }
    assert.deepEqual(results.sort(), ["a", "a", "b", "b", "c", "c", "d", "d", "e", "e"]);
    assert.equal(cluster.master.ledger.size, 0, "every message settled");
    assert.equal(cluster.client.unexpectedResults, 0, "the end-of-call markers never reach the client");
  });
});
