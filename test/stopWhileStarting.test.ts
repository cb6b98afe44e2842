import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { pino } from "pino";
import * as zmq from "zeromq";
import { Client } from "../actors/client.js";
import { ClientResultStream } from "../actors/resultStream.js";
import { Master } from "../actors/servers/master.js";
import { Server } from "../actors/servers/server.js";
import { PRESENCE_HELLO_PREFIX } from "../src/bridges/presence.js";
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

  it("a Client stopped while it waits for its server's greeting: start rejects, nothing opens after", async () => {
    const [dbAddress, pullAddress, pubAddress, silentPub] = await freeEndpoints(4);
    // A real server answers the client's cache requests; the PUB the client greets is one that never
    // answers, so the test knows when the client waits for the greeting (its subscription arrives).
    const server = new Server({
      name: "server",
      dbAddress: dbAddress!,
      pullAddress: pullAddress!,
      pubAddress: pubAddress!,
      ...quiet,
    });
    cleanups.push(() => server.stop());
    await server.start();
    const xpub = new zmq.XPublisher({ linger: 0 });
    cleanups.push(() => xpub.close());
    await xpub.bind(silentPub!);

    const client = new Client({
      serverName: "server",
      dbAddress: dbAddress!,
      pushAddress: pullAddress!,
      subAddress: silentPub!,
      timeoutMs: 60_000,
      ...quiet,
    });
    const starting = settled(client.start());
    for await (const [subscription] of xpub) {
      if (subscription!.subarray(1).toString().startsWith(PRESENCE_HELLO_PREFIX)) break;
    }
    const stoppedAt = Date.now();
    await client.stop();
    // Before, the greeting's wait ended as if answered and start() resolved: a stopped client "running".
    assert.equal(await starting, "PALM_ERR_CLIENT_STATE");
    assert.ok(Date.now() - stoppedAt < 5000, "start() settled once the client stopped");
    await assert.rejects(async () => client.eval("server.echo", Buffer.from("x")), {
      code: "PALM_ERR_CLIENT_STATE",
    });
  });

  it("a result stream closed while it waits for its welcome gives up at once", async () => {
    const [address] = await freeEndpoints(1);
    // A ROUTER that never welcomes anyone.
    const router = new zmq.Router({ linger: 0 });
    cleanups.push(() => router.close());
    await router.bind(address!);
    const stream = new ClientResultStream({
      id: "client-1",
      window: 10,
      maxMessageSize: 1 << 20,
      socketOptions: {},
      logger: pino({ level: "silent" }),
      onResults: () => undefined,
      onCutOff: () => undefined,
      onHeard: () => undefined,
    });
    const opening = stream.open(address!, 60_000);
    const [, hello] = await router.receive();
    assert.equal(hello!.toString(), "hello");
    const closedAt = Date.now();
    stream.close();
    // Before, the wait ran to its end (the client's connectTimeoutMs, 10 s by default) after a stop.
    assert.equal(await opening, false);
    assert.ok(Date.now() - closedAt < 5000, "open() settled once the stream closed");
  });
});
