import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Client } from "../actors/client.js";
import { Master } from "../actors/servers/master.js";
import { Worker } from "../actors/worker.js";
import { CacheStore } from "../src/cacheStore.js";
import { isPalmError } from "../src/errors.js";
import { freeEndpoints } from "../src/testing/ports.js";

async function startMaster(maxMessageSize?: number) {
  const [pull, pub, workerPull, workerPush, db] = await freeEndpoints(5);
  const master = new Master({
    name: "server",
    pullAddress: pull!,
    pubAddress: pub!,
    workerPullAddress: workerPull!,
    workerPushAddress: workerPush!,
    dbAddress: db!,
    logLevel: "silent",
    cache: { motd: "hello" },
    ...(maxMessageSize ? { maxMessageSize } : {}),
  });
  await master.start();
  return { master, db: db!, pull: pull! };
}

describe("the keys a server presets are read-only to its peers", () => {
  const closers: Array<() => unknown> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  it("refuses a client overwriting or deleting `name` and `pull_address`; a new client still starts", async () => {
    const { master, db, pull } = await startMaster();
    closers.push(() => master.stop());
    const intruder = new Client({ serverName: "server", dbAddress: db, logLevel: "silent" });
    await intruder.start();
    closers.push(() => intruder.stop());
    for (const key of ["name", "pull_address", "pub_address", "worker_push_address", "db_address", "motd"]) {
      await assert.rejects(
        intruder.set(Buffer.from("evil"), key),
        (error: unknown) =>
          isPalmError(error, "PALM_ERR_CACHE_READ_ONLY") && error.message.includes(JSON.stringify(key)),
        `set ${key}`,
      );
      await assert.rejects(
        intruder.delete(key),
        (error: unknown) => isPalmError(error, "PALM_ERR_CACHE_READ_ONLY"),
        `delete ${key}`,
      );
    }
    assert.equal(Buffer.from(await intruder.get("name")).toString(), "server");
    assert.equal(Buffer.from(await intruder.get("pull_address")).toString(), pull);
    // Other keys are the clients' to use.
    assert.equal(await intruder.set(Buffer.from("v"), "mine"), "mine");
    assert.equal(Buffer.from(await intruder.get("mine")).toString(), "v");
    assert.equal(await intruder.delete("mine"), "mine");
    // A worker is a peer too.
    const worker = new Worker({
      name: "w1",
      dbAddress: db,
      logLevel: "silent",
      functions: { echo: (p) => p },
    });
    await worker.start();
    closers.push(() => worker.stop());
    await assert.rejects(worker.set(Buffer.from("evil"), "worker_pull_address"), (error: unknown) =>
      isPalmError(error, "PALM_ERR_CACHE_READ_ONLY"),
    );
    const newcomer = new Client({ serverName: "server", dbAddress: db, logLevel: "silent" });
    await newcomer.start();
    closers.push(() => newcomer.stop());
    assert.equal(Buffer.from(await newcomer.eval("server.echo", Buffer.from("hi"))).toString(), "hi");
  });

  it("refuses lone-surrogate keys instead of letting distinct keys alias", async () => {
    const { master, db } = await startMaster();
    closers.push(() => master.stop());
    const client = new Client({ serverName: "server", dbAddress: db, logLevel: "silent" });
    await client.start();
    closers.push(() => client.stop());
    for (const key of ["\uD800", "\uDC00", "a\uD800b", "\uDBFF"]) {
      await assert.rejects(
        client.set(Buffer.from("x"), key),
        (error: unknown) => isPalmError(error, "PALM_ERR_OPTION_INVALID") && error.message.includes("`key`"),
      );
      await assert.rejects(client.get(key), (error: unknown) =>
        isPalmError(error, "PALM_ERR_OPTION_INVALID"),
      );
      await assert.rejects(client.delete(key), (error: unknown) =>
        isPalmError(error, "PALM_ERR_OPTION_INVALID"),
      );
    }
    // Well-formed keys, surrogate pairs included, stay distinct.
    const keys = ["\uD83D\uDE00", "\uD83D\uDE01", "\uFFFD", "plain"];
    for (const [i, key] of keys.entries()) await client.set(Buffer.from(`v${i}`), key);
    for (const [i, key] of keys.entries())
      assert.equal(Buffer.from(await client.get(key)).toString(), `v${i}`);
  });

  it("refuses a value over maxMessageSize at once, sending nothing, and the cache goes on serving", async () => {
    const limit = 1024 * 1024;
    const { master, db } = await startMaster(limit);
    closers.push(() => master.stop());
    const client = new Client({
      serverName: "server",
      dbAddress: db,
      logLevel: "silent",
      maxMessageSize: limit,
    });
    await client.start();
    closers.push(() => client.stop());
    // The cache's socket would drop such a request unanswered: the caller waited for the cache timeout.
    await assert.rejects(
      client.set(Buffer.alloc(2 * limit), "big"),
      (error: unknown) =>
        isPalmError(error, "PALM_ERR_CODEC_OVERSIZED") && /over maxMessageSize/.test(error.message),
    );
    assert.equal(await client.set(Buffer.alloc(limit / 2, 7), "big"), "big");
    assert.equal((await client.get("big")).length, limit / 2);
    assert.equal((await client.get("missing")).length, 0);
  });

  it("lets the server itself set a protected key after start (setProtected), still read-only to peers", () => {
    const store = new CacheStore();
    store.preset({ name: "server" });
    store.setProtected("worker_dispatch_address", "tcp://127.0.0.1:5000");
    assert.equal(Buffer.from(store.get("worker_dispatch_address")!).toString(), "tcp://127.0.0.1:5000");
    store.setProtected("worker_dispatch_address", "tcp://127.0.0.1:5001");
    assert.equal(Buffer.from(store.get("worker_dispatch_address")!).toString(), "tcp://127.0.0.1:5001");
    assert.equal(store.isProtected("worker_dispatch_address"), true);
    assert.throws(
      () => store.set(Buffer.from("x"), "worker_dispatch_address"),
      (error: unknown) => isPalmError(error, "PALM_ERR_CACHE_READ_ONLY"),
    );
    assert.throws(
      () => store.delete("name"),
      (error: unknown) => isPalmError(error, "PALM_ERR_CACHE_READ_ONLY"),
    );
    assert.equal(store.set(Buffer.from("x"), "free"), "free");
    assert.equal(store.delete("free"), true);
  });
});
