import assert from "node:assert/strict";
import net from "node:net";
import { Writable } from "node:stream";
import { after, describe, it } from "node:test";
import { pino } from "pino";
import * as zmq from "zeromq";
import { Client } from "../actors/client.js";
import { Master } from "../actors/servers/master.js";
import { Worker } from "../actors/worker.js";
import { msgpackCodec, protobufCodec } from "../src/codec/index.js";
import { RemoteError } from "../src/errors.js";
import { HEARTBEAT_FUNCTION } from "../src/liveness/heartbeat.js";
import { createMessage, type PalmMessage } from "../src/message.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { startFixture } from "./fixtures/jsonProcess.js";

const SEED = Number(process.env.PALM_FUZZ_SEED ?? 0x5eed);
const FRAMES = 10_000;
const MAX_MESSAGE_SIZE = 256 * 1024;

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with PALM_FUZZ_SEED. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Makes bad (and a few good-looking) frames: garbage, truncated, wrong codec, wrong shapes, oversized. */
function frameMaker(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const bytes = (n: number) => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = int(256);
    return b;
  };
  const message = (fields: Partial<PalmMessage> = {}): PalmMessage =>
    createMessage({
      client: `fuzz-${int(50)}`,
      function: ["server.echo", "other.fn", "server.nope", "", "server", " ", HEARTBEAT_FUNCTION][int(7)]!,
      stage: [0, 1, -1, 2 ** 40, 0.5][int(5)]!,
      payload: bytes(int(64)),
      ...fields,
    });
  const one = (): Buffer => {
    switch (int(10)) {
      case 0:
        return bytes(int(2048));
      case 1: {
        const good = msgpackCodec.encodeOne(message());
        return good.subarray(0, int(good.length));
      }
      case 2:
        return protobufCodec.encodeOne(message());
      case 3:
        // A msgpack array claiming 4 billion elements; a string claiming 4 GB.
        return Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0xdb, 0xff, 0xff, 0xff, 0xf0, 1, 2]);
      case 4:
        // Deeply nested arrays.
        return Buffer.concat([Buffer.alloc(20_000, 0x91), Buffer.from([0xc0])]);
      case 5: {
        const good = msgpackCodec.encodeOne(message());
        good[1 + int(good.length - 1)] = int(256);
        return good;
      }
      case 6:
        return msgpackCodec.encodeOne(message({ payload: bytes(int(200)) }));
      case 7:
        return int(200) === 0 ? Buffer.alloc(MAX_MESSAGE_SIZE + 1 + int(1000), 1) : bytes(int(16));
      default:
        return Buffer.from([0x92, 0xa6, ...Buffer.from("palm/1"), int(256)]);
    }
  };
  /** A multipart message of 1 to 4 frames (mostly 1). */
  const multipart = (): Buffer[] => Array.from({ length: random() < 0.8 ? 1 : 1 + int(4) }, one);
  return { one, multipart, bytes, int };
}

function countingLogger() {
  const lines: Array<{ msg?: string; part?: string }> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: "warn" }, stream), lines };
}

/** Raw TCP garbage: `connections` connections, each writing chunks, some starting with a ZMTP signature. */
async function rawGarbage(
  port: number,
  connections: number,
  chunks: number,
  make: ReturnType<typeof frameMaker>,
) {
  let written = 0;
  for (let c = 0; c < connections; c += 10) {
    await Promise.all(
      Array.from(
        { length: Math.min(10, connections - c) },
        () =>
          new Promise<void>((resolve) => {
            const socket = net.connect(port, "127.0.0.1", () => {
              if (make.int(2) === 0) socket.write(Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0]));
              for (let k = 0; k < chunks; k++) {
                socket.write(make.bytes(1 + make.int(300)));
                written++;
              }
              setTimeout(() => socket.destroy(), 20);
            });
            socket.on("error", () => undefined);
            socket.on("close", () => resolve());
          }),
      ),
    );
  }
  return written;
}

describe("bad input never crashes or blocks a server", () => {
  const closers: Array<() => unknown> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  it(`survives ${FRAMES} seeded bad frames per bound socket type while a real job runs`, async (t) => {
    const [pull, pub, workerPull, workerPush, db] = await freeEndpoints(5);
    const { logger, lines } = countingLogger();
    const master = new Master({
      name: "server",
      pullAddress: pull!,
      pubAddress: pub!,
      workerPullAddress: workerPull!,
      workerPushAddress: workerPush!,
      dbAddress: db!,
      logger,
      maxMessageSize: MAX_MESSAGE_SIZE,
    });
    const joined = new Promise<void>((resolve) => master.on("worker.joined", () => resolve()));
    await master.start();
    closers.push(() => master.stop());
    // The worker runs in its own process: the flood below keeps this process's event loop busy, and a
    // worker in it would be starved of its socket's reads, not of anything the master does.
    const worker = startFixture("workerProcess.ts", { name: "w1", dbAddress: db! }, { name: "w1" });
    closers.push(() => worker.kill("SIGTERM"));
    await worker.waitFor((l) => l.event === "ready");
    await joined;
    const client = new Client({
      serverName: "server",
      dbAddress: db!,
      logLevel: "silent",
      timeoutMs: 10_000,
    });
    await client.start();
    closers.push(() => client.stop());

    const make = frameMaker(prng(SEED));
    const port = (address: string) => Number(address.split(":").pop());
    const sockets: zmq.Socket[] = [];
    closers.push(() => {
      for (const socket of sockets) socket.close();
    });
    const pushTo = async (address: string) => {
      const push = new zmq.Push({ linger: 0, sendHighWaterMark: 100_000 });
      sockets.push(push);
      push.connect(address);
      for (let i = 0; i < FRAMES; i++) await push.send(make.multipart());
    };
    const requestTo = async (address: string) => {
      // A DEALER speaks to the REP without lockstep; most requests carry the REP envelope, some do not.
      const dealer = new zmq.Dealer({ linger: 0, sendHighWaterMark: 100_000 });
      sockets.push(dealer);
      dealer.connect(address);
      let replies = 0;
      void (async () => {
        for await (const _ of dealer) replies++;
      })();
      for (let i = 0; i < FRAMES; i++) {
        const frames = make.multipart();
        await dealer.send(make.int(10) === 0 ? frames : [Buffer.alloc(0), ...frames]);
      }
      return () => replies;
    };
    const subscribeTo = async (address: string) => {
      // An XSUB sends anything: (un)subscriptions with random topics, and frames that are neither.
      const xsub = new zmq.XSubscriber({ linger: 0, sendHighWaterMark: 100_000 });
      sockets.push(xsub);
      xsub.connect(address);
      void (async () => {
        for await (const _ of xsub) {
          // Drained: a subscriber that stops reading holds back what it subscribed to.
        }
      })();
      for (let i = 0; i < FRAMES; i++) {
        const frames = make.multipart();
        if (make.int(3) === 0) frames[0] = Buffer.concat([Buffer.from([make.int(2)]), frames[0]!]);
        await xsub.send(frames);
      }
    };

    const started = Date.now();
    const job = (async () => {
      const counts = new Map<string, number>();
      let errors = 0;
      const payloads = Array.from({ length: 5000 }, (_, i) => Buffer.from(`m-${i}`));
      for await (const result of client.job("server.echo", payloads)) {
        if (result instanceof RemoteError) errors++;
        else
          counts.set(Buffer.from(result).toString(), (counts.get(Buffer.from(result).toString()) ?? 0) + 1);
      }
      return { counts, errors };
    })();
    const [, , replies, , , garbage] = await Promise.all([
      pushTo(pull!),
      pushTo(workerPull!),
      requestTo(db!),
      subscribeTo(pub!),
      job,
      Promise.all([
        rawGarbage(port(workerPush!), 100, FRAMES / 100, make),
        rawGarbage(port(pull!), 20, 50, make),
        rawGarbage(port(pub!), 20, 50, make),
        rawGarbage(port(db!), 20, 50, make),
      ]),
    ]);
    const { counts, errors } = await job;
    // Let the server read what is still queued, then check it is whole and still serves.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(Buffer.from(await client.eval("server.echo", Buffer.from("after"))).toString(), "after");
    const parts = Object.fromEntries(master.parts().map((p) => [p.name, p]));
    const badLogs = lines.filter((l) => l.msg === "bad frames dropped" || l.msg?.startsWith("bad requests"));
    t.diagnostic(
      `seed ${SEED}; ${Date.now() - started} ms; bad frames counted: ${Object.values(parts)
        .map((p) => `${p.name} ${p.badFrames}`)
        .join(
          ", ",
        )}; cache answered ${replies()} DEALER requests; ${garbage.reduce((a, b) => a + b, 0)} raw TCP chunks; ${badLogs.length} rate-limited log lines about them`,
    );
    assert.equal(errors, 0);
    assert.equal(counts.size, 5000);
    for (const [tag, count] of counts) assert.equal(count, 1, `${tag} arrived ${count} times`);
    for (const part of Object.values(parts)) {
      assert.equal(part.status, "ready", `${part.name} is ${part.status}`);
      assert.equal(part.restarts, 0, `${part.name} restarted`);
    }
    assert.ok(parts.Pull!.badFrames > FRAMES / 2, `Pull counted ${parts.Pull!.badFrames}`);
    assert.ok(parts.WorkerPull!.badFrames > FRAMES / 2, `WorkerPull counted ${parts.WorkerPull!.badFrames}`);
    assert.ok(parts.Cache!.badFrames > FRAMES / 2, `Cache counted ${parts.Cache!.badFrames}`);
    // Replies on a connection ZeroMQ dropped (an oversized frame) are lost with it; the rest come back.
    assert.ok(replies() > FRAMES / 5, "the cache kept answering the requests in its envelope");
    // One line per part per 10 s, however many bad frames (four parts get them; a loaded machine takes longer).
    const windows = Math.ceil((Date.now() - started) / 10_000) + 1;
    assert.ok(badLogs.length <= 4 * windows, `${badLogs.length} log lines in ${windows} windows of 10 s`);
    assert.equal(master.workers().filter((w) => w.state === "alive").length, 1);
  });

  it("gives no work to a raw TCP peer speaking legacy ZMTP 1.0 to the worker PUSH", async () => {
    const [pull, pub, workerPull, workerPush, db] = await freeEndpoints(5);
    const master = new Master({
      name: "server",
      pullAddress: pull!,
      pubAddress: pub!,
      workerPullAddress: workerPull!,
      workerPushAddress: workerPush!,
      dbAddress: db!,
      logLevel: "silent",
    });
    await master.start();
    closers.push(() => master.stop());
    // A first byte other than 0xFF is a ZMTP 1.0 greeting (an identity of that length); libzmq would
    // take such a peer without a handshake, and a PUSH would deal it messages.
    let received = 0;
    const raw = net.connect(Number(workerPush!.split(":").pop()), "127.0.0.1", () => {
      raw.write(Buffer.from([0x01, 0x00]));
    });
    raw.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    raw.on("error", () => undefined);
    closers.push(() => raw.destroy());
    await new Promise((resolve) => setTimeout(resolve, 200));
    const worker = new Worker({
      name: "w1",
      dbAddress: db!,
      logLevel: "silent",
      functions: { echo: (payload: Uint8Array) => payload },
    });
    await worker.start();
    closers.push(() => worker.stop());
    const client = new Client({ serverName: "server", dbAddress: db!, logLevel: "silent", timeoutMs: 5000 });
    await client.start();
    closers.push(() => client.stop());
    let results = 0;
    const payloads = Array.from({ length: 2000 }, (_, i) => Buffer.from(`m-${i}`));
    for await (const _ of client.job("server.echo", payloads)) results++;
    assert.equal(results, 2000);
    assert.equal(master.ledger.redelivered, 0);
    // At most libzmq's own greeting went out to it: no message.
    assert.ok(received <= 64, `the raw peer received ${received} bytes`);
  });
});
