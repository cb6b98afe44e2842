import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Client } from "../actors/client.js";
import { Master } from "../actors/servers/master.js";
import { isPalmError } from "../src/errors.js";
import { freeEndpoints } from "../src/testing/ports.js";

// stop() called while start() is still under way: start() must settle at once with a clear error, and
// nothing may be opened after the stop (an open socket would keep the process alive for good).

const quiet = { logLevel: "silent" } as const;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function masterOptions() {
  const [pullAddress, pubAddress, workerPullAddress, workerPushAddress, dbAddress] = await freeEndpoints(5);
  return {
    name: "server",
    pullAddress: pullAddress!,
    pubAddress: pubAddress!,
    workerPullAddress: workerPullAddress!,
    workerPushAddress: workerPushAddress!,
    dbAddress: dbAddress!,
    ...quiet,
  };
}

/** How a promise settled: "resolved", or the code of the error it rejected with. */
const settled = (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (error: unknown) => (isPalmError(error) ? error.code : String(error)),
  );

describe("stop() while start() is under way", () => {
  it("a Master's start rejects with PALM_ERR_SERVER_STOPPED and its addresses are free again", async () => {
    const options = await masterOptions();
    const master = new Master(options);
    const starting = settled(master.start());
    await master.stop();
    // It never settled before: an `await master.start()` waited for good.
    assert.equal(await starting, "PALM_ERR_SERVER_STOPPED");

    // Every socket it opened was closed: a new master binds the same addresses and serves.
    const again = new Master(options);
    cleanups.push(() => again.stop());
    await again.start();
    const client = new Client({ serverName: "server", dbAddress: options.dbAddress, ...quiet });
    cleanups.push(() => client.stop());
    await client.start();
    assert.equal((await client.get("name")).toString(), "server");
  });
});
