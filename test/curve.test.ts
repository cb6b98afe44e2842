import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, describe, it } from "node:test";
import { pino } from "pino";
import * as zmq from "zeromq";
import { Client } from "../actors/client.js";
import { Master } from "../actors/servers/master.js";
import { Worker } from "../actors/worker.js";
import { msgpackCodec } from "../src/codec/index.js";
import { isPalmError } from "../src/errors.js";
import { createMessage } from "../src/message.js";
import { generateKeyPair, isCurveKey, keygen } from "../src/security/curveKeys.js";
import { z85Decode, z85Encode } from "../src/security/z85.js";
import { freeEndpoints } from "../src/testing/ports.js";

async function addresses() {
  const [pullAddress, pubAddress, workerPullAddress, workerPushAddress, dbAddress] = await freeEndpoints(5);
  return {
    pullAddress: pullAddress!,
    pubAddress: pubAddress!,
    workerPullAddress: workerPullAddress!,
    workerPushAddress: workerPushAddress!,
    dbAddress: dbAddress!,
  };
}

function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: "warn" }, stream), lines };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("CURVE keys", () => {
  it("makes Z85 keypairs, and keygen() prints one", () => {
    const pair = generateKeyPair();
    assert.ok(isCurveKey(pair.publicKey) && isCurveKey(pair.secretKey));
    assert.notEqual(pair.publicKey, pair.secretKey);
    assert.equal(z85Decode(pair.publicKey)?.length, 32);
    assert.equal(z85Encode(z85Decode(pair.publicKey)!), pair.publicKey);
    const text = keygen();
    const [, pub] = /^public-key: (\S{40})$/m.exec(text) ?? [];
    const [, sec] = /^secret-key: (\S{40})$/m.exec(text) ?? [];
    assert.ok(isCurveKey(pub) && isCurveKey(sec), text);
  });

  it("refuses a malformed key at construction, naming the option", async () => {
    const a = await addresses();
    assert.throws(
      () =>
        new Master({
          name: "server",
          ...a,
          logLevel: "silent",
          curve: { publicKey: "short", secretKey: generateKeyPair().secretKey, allowedClientKeys: [] },
        }),
      (error) => isPalmError(error, "PALM_ERR_OPTION_INVALID") && /`curve.publicKey`/.test(error.message),
    );
  });
});

describe("CURVE security", () => {
  const closers: Array<() => unknown> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  it("lets allowed clients and workers in; an unknown key or plain text gets nothing processed", async () => {
    const a = await addresses();
    const server = generateKeyPair();
    const clientKeys = generateKeyPair();
    const workerKeys = generateKeyPair();
    const intruder = generateKeyPair();
    const stranger = generateKeyPair();
    const { logger, lines } = capturingLogger();
    const master = new Master({
      name: "server",
      ...a,
      logger,
      curve: { ...server, allowedClientKeys: [clientKeys.publicKey, workerKeys.publicKey] },
    });
    await master.start();
    closers.push(() => master.stop());
    const calls: string[] = [];
    const echo = (payload: Uint8Array) => {
      calls.push(Buffer.from(payload).toString());
      return payload;
    };
    const worker = new Worker({
      name: "w1",
      dbAddress: a.dbAddress,
      logLevel: "silent",
      functions: { echo },
      curve: { ...workerKeys, serverKey: server.publicKey },
    });
    await worker.start();
    closers.push(() => worker.stop());
    // A worker whose key is not allowed: given the addresses, it connects, but gets no work.
    let stolen = 0;
    const thief = new Worker({
      name: "thief",
      dbAddress: a.dbAddress,
      pullAddress: a.workerPushAddress,
      pushAddress: a.workerPullAddress,
      logLevel: "silent",
      functions: {
        echo: (payload: Uint8Array) => {
          stolen++;
          return payload;
        },
      },
      curve: { ...intruder, serverKey: server.publicKey },
    });
    await thief.start();
    closers.push(() => thief.stop());

    // An intruder pushing well-formed messages with a key that is not allowed, and a peer in plain text.
    const intruderPush = new zmq.Push({
      linger: 0,
      curveServerKey: server.publicKey,
      curvePublicKey: intruder.publicKey,
      curveSecretKey: intruder.secretKey,
    });
    const plainPush = new zmq.Push({ linger: 0 });
    const plainCache = new zmq.Request({ linger: 0, receiveTimeout: 500 });
    closers.push(() => {
      intruderPush.close();
      plainPush.close();
      plainCache.close();
    });
    intruderPush.connect(a.pullAddress);
    plainPush.connect(a.pullAddress);
    plainCache.connect(a.dbAddress);
    const forged = (tag: string) =>
      msgpackCodec.encodeOne(
        createMessage({ client: "x", function: "server.echo", payload: Buffer.from(tag) }),
      );
    void intruderPush.send(forged("intruder")).catch(() => undefined);
    void plainPush.send(forged("plain")).catch(() => undefined);
    await plainCache.send(
      msgpackCodec.encodeOne(createMessage({ function: "server.get", payload: Buffer.from("name") })),
    );
    await assert.rejects(plainCache.receive(), (error: { code?: string }) => error.code === "EAGAIN");

    // The allowed client is served.
    const client = new Client({
      serverName: "server",
      dbAddress: a.dbAddress,
      logLevel: "silent",
      curve: { ...clientKeys, serverKey: server.publicKey },
    });
    await client.start();
    closers.push(() => client.stop());
    const results: string[] = [];
    const payloads = Array.from({ length: 2000 }, (_, i) => Buffer.from(`m-${i}`));
    for await (const result of client.job("server.echo", payloads))
      results.push(Buffer.from(result as Uint8Array).toString());
    assert.equal(new Set(results).size, 2000);

    // A client with a key that is not allowed cannot even read the cache.
    const strangerClient = new Client({
      serverName: "server",
      dbAddress: a.dbAddress,
      logLevel: "silent",
      connectTimeoutMs: 800,
      curve: { ...stranger, serverKey: server.publicKey },
    });
    await assert.rejects(strangerClient.start(), (error) => isPalmError(error, "PALM_ERR_TIMEOUT"));
    await sleep(300);

    assert.equal(stolen, 0, "the unallowed worker got no work");
    assert.deepEqual(
      calls.filter((tag) => !tag.startsWith("m-")),
      [],
      "nothing from the intruder or the plain-text peer was run",
    );
    assert.equal(master.parts().find((p) => p.name === "Pull")?.messagesIn, 2000);
    const refusals = lines.filter((l) => l.msg === "CURVE peer refused: its public key is not allowed");
    assert.deepEqual(
      refusals.map((l) => l.clientKey).sort(),
      [intruder.publicKey, stranger.publicKey].sort(),
    );
  });

  it("keeps the CURVE servers of one process apart, and its plain-text servers working", async () => {
    const [one, two] = [await addresses(), await addresses()];
    const keys = [generateKeyPair(), generateKeyPair()];
    const clientKeys = generateKeyPair();
    const masters = [
      new Master({
        name: "one",
        ...one,
        logLevel: "silent",
        curve: { ...keys[0]!, allowedClientKeys: [clientKeys.publicKey] },
      }),
      new Master({ name: "two", ...two, logLevel: "silent", curve: { ...keys[1]!, allowedClientKeys: [] } }),
    ];
    for (const master of masters) {
      await master.start();
      closers.push(() => master.stop());
    }
    const allowed = new Client({
      serverName: "one",
      dbAddress: one.dbAddress,
      logLevel: "silent",
      curve: { ...clientKeys, serverKey: keys[0]!.publicKey },
    });
    await allowed.start();
    closers.push(() => allowed.stop());
    const refused = new Client({
      serverName: "two",
      dbAddress: two.dbAddress,
      logLevel: "silent",
      connectTimeoutMs: 800,
      curve: { ...clientKeys, serverKey: keys[1]!.publicKey },
    });
    await assert.rejects(refused.start(), (error) => isPalmError(error, "PALM_ERR_TIMEOUT"));
    // A plain-text server of the same process is unaffected by the ZAP handler the CURVE ones run.
    const three = await addresses();
    const plain = new Master({ name: "three", ...three, logLevel: "silent" });
    await plain.start();
    closers.push(() => plain.stop());
    const worker = new Worker({
      name: "w",
      dbAddress: three.dbAddress,
      logLevel: "silent",
      functions: { echo: (payload: Uint8Array) => payload },
    });
    await worker.start();
    closers.push(() => worker.stop());
    const plainClient = new Client({ serverName: "three", dbAddress: three.dbAddress, logLevel: "silent" });
    await plainClient.start();
    closers.push(() => plainClient.stop());
    assert.equal(Buffer.from(await plainClient.eval("three.echo", Buffer.from("hi"))).toString(), "hi");
    // The first stops; the second still refuses (the process's ZAP handler stays up for it).
    await masters[0]!.stop();
    const again = new Client({
      serverName: "two",
      dbAddress: two.dbAddress,
      logLevel: "silent",
      connectTimeoutMs: 800,
      curve: { ...clientKeys, serverKey: keys[1]!.publicKey },
    });
    await assert.rejects(again.start(), (error) => isPalmError(error, "PALM_ERR_TIMEOUT"));
  });

  it("with two allow-lists, a client's key cannot join as a worker; a worker's key works, and the cache takes both", async () => {
    const a = await addresses();
    const server = generateKeyPair();
    const clientKeys = generateKeyPair();
    const workerKeys = generateKeyPair();
    const { logger, lines } = capturingLogger();
    const master = new Master({
      name: "server",
      ...a,
      logger,
      curve: { ...server, clients: [clientKeys.publicKey], workers: [workerKeys.publicKey] },
    });
    await master.start();
    closers.push(() => master.stop());
    const calls = { worker: 0, impostor: 0 };
    const echo = (who: keyof typeof calls) => (payload: Uint8Array) => {
      calls[who]++;
      return payload;
    };
    const worker = new Worker({
      name: "w1",
      dbAddress: a.dbAddress,
      logLevel: "silent",
      functions: { echo: echo("worker") },
      curve: { ...workerKeys, serverKey: server.publicKey },
    });
    await worker.start();
    closers.push(() => worker.stop());
    // The client's key reads the cache (both lists get in) but cannot join the worker sockets.
    const impostor = new Worker({
      name: "impostor",
      dbAddress: a.dbAddress,
      logLevel: "silent",
      functions: { echo: echo("impostor") },
      curve: { ...clientKeys, serverKey: server.publicKey },
    });
    // Its DEALER is refused, so the master never welcomes it: its start() waits until it is stopped.
    const impostorStarted = impostor.start().then(
      () => true,
      () => false,
    );
    closers.push(() => impostor.stop());
    // A worker's key pushing to the client-facing Pull is refused too.
    const workerAsClient = new zmq.Push({
      linger: 0,
      curveServerKey: server.publicKey,
      curvePublicKey: workerKeys.publicKey,
      curveSecretKey: workerKeys.secretKey,
    });
    closers.push(() => workerAsClient.close());
    workerAsClient.connect(a.pullAddress);
    void workerAsClient
      .send(
        msgpackCodec.encodeOne(
          createMessage({ client: "x", function: "server.echo", payload: Buffer.from("forged") }),
        ),
      )
      .catch(() => undefined);

    const client = new Client({
      serverName: "server",
      dbAddress: a.dbAddress,
      logLevel: "silent",
      curve: { ...clientKeys, serverKey: server.publicKey },
    });
    await client.start();
    closers.push(() => client.stop());
    const results = new Map<string, number>();
    const payloads = Array.from({ length: 1000 }, (_, i) => Buffer.from(`m-${i}`));
    for await (const result of client.job("server.echo", payloads)) {
      const tag = Buffer.from(result as Uint8Array).toString();
      results.set(tag, (results.get(tag) ?? 0) + 1);
    }
    await sleep(200);
    assert.equal(results.size, 1000);
    for (const [tag, count] of results) assert.equal(count, 1, `${tag} arrived ${count} times`);
    assert.equal(calls.impostor, 0, "the client's key got no work");
    assert.equal(calls.worker, 1000, "the worker's key did all of it");
    assert.equal(master.parts().find((p) => p.name === "Pull")?.messagesIn, 1000, "nothing forged got in");
    const refusals = () => lines.filter((l) => l.msg === "CURVE peer refused: its public key is not allowed");
    for (const since = Date.now(); refusals().length < 2 && Date.now() - since < 30_000; ) await sleep(100);
    assert.deepEqual(
      refusals()
        .map((l) => l.clientKey)
        .sort(),
      [clientKeys.publicKey, workerKeys.publicKey].sort(),
    );
    await impostor.stop();
    assert.equal(await impostorStarted, false, "the impostor was never welcomed");
  });

  it("validates the two allow-lists, naming the option", async () => {
    const a = await addresses();
    const server = generateKeyPair();
    const key = generateKeyPair().publicKey;
    const make = (curve: Record<string, unknown>) => () =>
      new Master({ name: "server", ...a, logLevel: "silent", curve: { ...server, ...curve } as never });
    assert.throws(
      make({ clients: [key] }),
      (error) => isPalmError(error, "PALM_ERR_OPTION_INVALID") && /`curve.workers`/.test(error.message),
    );
    assert.throws(
      make({ clients: [key], workers: ["nope"] }),
      (error) => isPalmError(error, "PALM_ERR_OPTION_INVALID") && /`curve.workers\[0\]`/.test(error.message),
    );
    assert.throws(
      make({ clients: "any", workers: [key], allowedClientKeys: [key] }),
      (error) =>
        isPalmError(error, "PALM_ERR_OPTION_INVALID") && /`curve.allowedClientKeys`/.test(error.message),
    );
    assert.throws(
      make({}),
      (error) =>
        isPalmError(error, "PALM_ERR_OPTION_INVALID") && /`curve.allowedClientKeys`/.test(error.message),
    );
    assert.doesNotThrow(make({ clients: "any", workers: [key] }));
  });
});
