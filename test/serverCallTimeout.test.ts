import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Client, type JobResult } from "../actors/client.js";
import { Server } from "../actors/servers/server.js";
import { isPalmError, RemoteError } from "../src/errors.js";
import { freeEndpoints } from "../src/testing/ports.js";

// A Server (and so a Pipeline or Sink: they run functions the same way) runs one message at a time. An
// async function that never settles held it for ever: every later message waited behind it.

const stoppers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stoppers.splice(0).reverse()) await stop();
});

const text = (result: JobResult) =>
  result instanceof Error ? `error: ${result.message}` : Buffer.from(result).toString();

describe("Server: an async function that never settles", () => {
  it("is answered PALM_ERR_TIMEOUT at callTimeoutMs, its signal fires, and the next messages run", async () => {
    const [db, pull, pub] = await freeEndpoints(3);
    let aborted = 0;
    const server = new Server({
      name: "server",
      dbAddress: db!,
      pullAddress: pull!,
      pubAddress: pub!,
      logLevel: "silent",
      callTimeoutMs: 300,
      functions: {
        hang: (_payload, { signal }) => {
          signal.addEventListener("abort", () => aborted++);
          return new Promise(() => undefined);
        },
        later: async (payload) => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          return payload;
        },
      },
    });
    stoppers.push(() => server.stop());
    await server.start();
    const client = new Client({
      serverName: "server",
      dbAddress: db!,
      logLevel: "silent",
      timeoutMs: 20_000,
    });
    stoppers.push(() => client.stop());
    await client.start();
    const hung = await client.eval("server.hang", Buffer.from("x")).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(hung instanceof RemoteError, String(hung));
    assert.match(hung.remoteCause, /^PALM_ERR_TIMEOUT: server\.hang did not settle within 300 ms/);
    assert.equal(aborted, 1);
    // Two more hung calls among 20 quick async ones: every one answered, in order, none lost.
    const payloads = Array.from({ length: 22 }, (_, i) => Buffer.from(String(i)));
    const results: string[] = [];
    for await (const result of client.job("server.later", payloads.slice(0, 10))) results.push(text(result));
    for (const _ of [0, 1]) {
      await assert.rejects(client.eval("server.hang", Buffer.from("x")), RemoteError);
    }
    for await (const result of client.job("server.later", payloads.slice(10, 20))) results.push(text(result));
    assert.deepEqual(
      results,
      Array.from({ length: 20 }, (_, i) => String(i)),
    );
    assert.equal(aborted, 3);
    assert.equal(server.parts().find((part) => part.name === "Pull")?.restarts, 0);
  });

  it("checks callTimeoutMs and names it", () => {
    for (const callTimeoutMs of [0, -1, 1.5, "60000"]) {
      assert.throws(
        () =>
          new Server({
            name: "s",
            dbAddress: "tcp://127.0.0.1:5559",
            pullAddress: "tcp://127.0.0.1:5555",
            pubAddress: "tcp://127.0.0.1:5556",
            callTimeoutMs,
          } as never),
        (error: unknown) =>
          isPalmError(error, "PALM_ERR_OPTION_INVALID") && /`callTimeoutMs`/.test(error.message),
      );
    }
  });
});
