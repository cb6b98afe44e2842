import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { pino } from "pino";
import * as zmq from "zeromq";
import { Client } from "../actors/client.js";
import { ClientResultStream } from "../actors/resultStream.js";
import { Master } from "../actors/servers/master.js";
import { PRESENCE_HELLO_PREFIX } from "../src/bridges/presence.js";
import { isPalmError } from "../src/errors.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { startMaster } from "../src/testing/startMaster.js";

// stop() called while start() is still under way: start() must settle at once with a clear error, and
// nothing may be opened after the stop (an open socket would keep the process alive for good).

const quiet = { logLevel: "silent" } as const;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** How a promise settled: "resolved", or the code of the error it rejected with. */
const settled = (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (error: unknown) => (isPalmError(error) ? error.code : String(error)),
  );

/** Binds a raw socket on a free loopback port (closed after the test); resolves with its address. */
async function bindFree(socket: zmq.Socket): Promise<string> {
  const [address] = await freeEndpoints(1);
  cleanups.push(() => socket.close());
  await socket.bind(address!);
  return address!;
}

describe("stop() while start() is under way", () => {
  it("a Master's start rejects with PALM_ERR_SERVER_STOPPED and its addresses are free again", async () => {
    // A master started and stopped by the testing helper gives five addresses known to be bindable.
    const first = await startMaster({ workers: 0, client: false });
    await first.stop();
    const options = { name: "server", ...first.addresses, ...quiet };
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
    // A real master answers the client's cache requests; the PUB the client greets is one that never
    // answers, so the test knows when the client waits for the greeting (its subscription arrives).
    const cluster = await startMaster({ workers: 0, client: false });
    cleanups.push(() => cluster.stop());
    const { dbAddress, pullAddress } = cluster.addresses;
    const xpub = new zmq.XPublisher({ linger: 0 });
    const silentPub = await bindFree(xpub);

    const client = new Client({
      serverName: "server",
      dbAddress,
      pushAddress: pullAddress,
      subAddress: silentPub,
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

  it("a Client whose start fails by itself reports that failure, not a stop nobody asked for", async () => {
    const cluster = await startMaster({ workers: 0, client: false });
    cleanups.push(() => cluster.stop());
    const { dbAddress, pullAddress } = cluster.addresses;
    const silentPub = await bindFree(new zmq.XPublisher({ linger: 0 }));
    const client = new Client({
      serverName: "server",
      dbAddress,
      pushAddress: pullAddress,
      subAddress: silentPub,
      connectTimeoutMs: 300,
      ...quiet,
    });
    // Start stops the client on its way out; that was reported as "stopped while starting", hiding the
    // cause (a greeting that never came here; too many open files with hundreds of clients in a process).
    await assert.rejects(
      client.start(),
      (error: unknown) => isPalmError(error, "PALM_ERR_TIMEOUT") && /No greeting/.test(error.message),
    );
    await assert.rejects(async () => client.eval("server.echo", Buffer.from("x")), {
      code: "PALM_ERR_CLIENT_STATE",
    });
  });

  it("a result stream closed while it waits for its welcome gives up at once", async () => {
    // A ROUTER that never welcomes anyone.
    const router = new zmq.Router({ linger: 0 });
    const address = await bindFree(router);
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
    const opening = stream.open(address, 60_000);
    const [, hello] = await router.receive();
    assert.equal(hello!.toString(), "hello");
    const closedAt = Date.now();
    stream.close();
    // Before, the wait ran to its end (the client's connectTimeoutMs, 10 s by default) after a stop.
    assert.equal(await opening, false);
    assert.ok(Date.now() - closedAt < 5000, "open() settled once the stream closed");
  });
});
