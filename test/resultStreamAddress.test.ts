import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Client } from "../actors/client.js";
import { Master } from "../actors/servers/master.js";
import { Server } from "../actors/servers/server.js";
import { PalmError } from "../src/errors.js";
import { STREAM_CACHE_KEY } from "../src/streams/protocol.js";
import { freeEndpoints } from "../src/testing/ports.js";

const quiet = { logLevel: "silent" } as const;

describe("resultStreamAddress", () => {
  it("binds the Streams part where it says, publishes it, and serves a client there", async () => {
    const [db, pull, pub, streams] = await freeEndpoints(4);
    const server = new Server({
      name: "fixed",
      dbAddress: db!,
      pullAddress: pull!,
      pubAddress: pub!,
      resultStreamAddress: streams!,
      ...quiet,
    });
    await server.start();
    const client = new Client({ serverName: "fixed", dbAddress: db!, ...quiet });
    try {
      await client.start();
      assert.equal(Buffer.from(await client.get(STREAM_CACHE_KEY)).toString(), streams);
      const results: string[] = [];
      for await (const result of client.job("fixed.echo", [Buffer.from("a"), Buffer.from("b")])) {
        results.push(Buffer.from(result as Uint8Array).toString());
      }
      assert.deepEqual(results.sort(), ["a", "b"]);
    } finally {
      await client.stop();
      await server.stop();
    }
  });

  it("is validated like the other addresses: the error names the option", async () => {
    const [db, pull, pub, push, workerPull] = await freeEndpoints(5);
    const base = { dbAddress: db!, pullAddress: pull!, pubAddress: pub! };
    for (const bad of ["nowhere", 42, "tcp://127.0.0.1:70000"]) {
      assert.throws(
        () => new Server({ name: "s", ...base, resultStreamAddress: bad as string }),
        (error: unknown) =>
          error instanceof PalmError &&
          error.code === "PALM_ERR_OPTION_INVALID" &&
          /resultStreamAddress/.test(error.message),
      );
      assert.throws(
        () =>
          new Master({
            name: "m",
            ...base,
            workerPullAddress: workerPull!,
            workerPushAddress: push!,
            resultStreamAddress: bad as string,
          }),
        /resultStreamAddress/,
      );
    }
  });
});
