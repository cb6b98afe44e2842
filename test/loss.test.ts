import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import * as zmq from "zeromq";
import { Client } from "../actors/client.js";
import { HELLO_PREFIX } from "../src/bridges/writerBridge.js";
import { msgpackCodec } from "../src/codec/index.js";
import { RemoteError } from "../src/errors.js";
import { createMessage } from "../src/message.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { type FixtureProcess, startFixture } from "./fixtures/jsonProcess.js";

async function masterAddresses() {
  const [pullAddress, pubAddress, workerPullAddress, workerPushAddress, dbAddress] = await freeEndpoints(5);
  return {
    name: "server",
    pullAddress: pullAddress!,
    pubAddress: pubAddress!,
    workerPullAddress: workerPullAddress!,
    workerPushAddress: workerPushAddress!,
    dbAddress: dbAddress!,
  };
}

describe("no silent loss across processes", () => {
  const processes: FixtureProcess[] = [];
  const closers: Array<() => unknown> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
    await Promise.all(processes.map((p) => p.kill()));
  });

  it("redelivers what a kill -9ed worker held: 20,000 results, none lost, none twice", async (t) => {
    const addresses = await masterAddresses();
    const master = startFixture("masterProcess.ts", addresses, { name: "master" });
    processes.push(master);
    await master.waitFor((l) => l.event === "ready");
    const workers = ["w1", "w2"].map((name) => {
      const worker = startFixture(
        "workerProcess.ts",
        { name, dbAddress: addresses.dbAddress, spinUs: 150 },
        { name },
      );
      processes.push(worker);
      return worker;
    });
    await Promise.all(workers.map((w) => w.waitFor((l) => l.event === "ready")));
    await Promise.all(
      ["w1", "w2"].map((name) =>
        master.waitFor((l) => l.event === "worker.joined" && (l.worker as { name: string }).name === name),
      ),
    );

    const client = new Client({ serverName: "server", dbAddress: addresses.dbAddress, logLevel: "silent" });
    await client.start();
    closers.push(() => client.stop());
    const total = 20_000;
    const counts = new Map<string, number>();
    let errors = 0;
    let received = 0;
    let killedAt = 0;
    const payloads = Array.from({ length: total }, (_, i) => Buffer.from(`m-${i}`));
    const started = Date.now();
    for await (const result of client.job("server.echo", payloads)) {
      received++;
      if (result instanceof RemoteError) errors++;
      else {
        const tag = Buffer.from(result).toString();
        counts.set(tag, (counts.get(tag) ?? 0) + 1);
      }
      if (received === Math.round(total * 0.3)) {
        killedAt = Date.now();
        process.kill(workers[0]!.pid, "SIGKILL");
      }
    }
    const jobMs = Date.now() - started;

    const lost = await master.waitFor(
      (l) => l.event === "worker.lost" && (l.worker as { name: string }).name === "w1",
      5000,
    );
    const firstRedelivery = master.lines.find(
      (l) => l.event === "messages.redelivered" && (l.at as number) >= killedAt,
    );
    const detectMs = (lost.at as number) - killedAt;
    master.command({ cmd: "stats" });
    const stats = await master.waitFor((l) => l.event === "stats");
    const ledger = stats.ledger as { size: number; duplicates: number; redelivered: number };
    t.diagnostic(
      `job ${jobMs} ms; w1 declared lost ${detectMs} ms after kill -9; first redelivery ${
        firstRedelivery
          ? `${(firstRedelivery.at as number) - killedAt} ms (${firstRedelivery.reason}, ${firstRedelivery.count} messages)`
          : "none"
      }; duplicates suppressed by the master: ${ledger.duplicates}; redelivered: ${ledger.redelivered}`,
    );

    assert.equal(received, total);
    assert.equal(errors, 0);
    assert.equal(counts.size, total, "every tag arrived");
    for (const [tag, count] of counts) assert.equal(count, 1, `${tag} arrived ${count} times`);
    assert.equal(client.unexpectedResults, 0, "the master passed no result on twice");
    assert.ok(detectMs < 3000, `detected in ${detectMs} ms`);
    assert.ok(ledger.redelivered > 0, "what the dead worker held was redelivered");
    assert.equal(ledger.size, 0, "nothing left in flight");
  });

  it("never drops a result for a client that reads 1 result/ms, and the master's memory stays bounded", async (t) => {
    const addresses = await masterAddresses();
    const master = startFixture(
      "masterProcess.ts",
      // A pylm-style client reads the PUB: asked to, the PUB blocks at its mark instead of dropping.
      { ...addresses, maxInFlight: 200, highWater: 200, highWaterMark: 10, rssEveryMs: 25, pubNoDrop: true },
      { name: "master" },
    );
    processes.push(master);
    const ready = await master.waitFor((l) => l.event === "ready");
    const worker = startFixture(
      "workerProcess.ts",
      { name: "w1", dbAddress: addresses.dbAddress },
      { name: "w1" },
    );
    processes.push(worker);
    await master.waitFor((l) => l.event === "worker.joined");

    // A pylm-style client: no window, it pushes everything it has; and it reads one result per millisecond.
    const total = 5000;
    const payloadBytes = 64 * 1024;
    const id = "slow-client";
    const sub = new zmq.Subscriber({ receiveHighWaterMark: 10, linger: 0 });
    const push = new zmq.Push({ sendHighWaterMark: 10, linger: 0 });
    closers.push(() => {
      sub.close();
      push.close();
    });
    sub.connect(addresses.pubAddress);
    sub.subscribe(id);
    sub.subscribe(`${HELLO_PREFIX}${id}`);
    push.connect(addresses.pullAddress);
    for (;;) {
      const [topic] = await sub.receive();
      if (topic!.toString().startsWith(HELLO_PREFIX)) break;
    }
    sub.unsubscribe(`${HELLO_PREFIX}${id}`);

    const padding = Buffer.alloc(payloadBytes, 7);
    let sentAll = 0;
    const sending = (async () => {
      for (let i = 0; i < total; i++) {
        const tag = Buffer.from(`m-${i}:`);
        const payload = Buffer.concat([tag, padding.subarray(tag.length)]);
        await push.send(
          msgpackCodec.encodeOne(
            createMessage({ client: id, pipeline: id, function: "server.echo", payload }),
          ),
        );
      }
      sentAll = Date.now();
    })();
    const counts = new Map<string, number>();
    let read = 0;
    let halfReadAt = 0;
    const started = Date.now();
    while (read < total) {
      const [, frame] = await sub.receive();
      for (const message of msgpackCodec.decode(frame!)) {
        const text = Buffer.from(message.payload.subarray(0, 16)).toString("latin1");
        const tag = text.slice(0, text.indexOf(":"));
        counts.set(tag, (counts.get(tag) ?? 0) + 1);
        read++;
        if (read === total / 2) halfReadAt = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    await sending;
    const readMs = Date.now() - started;
    const baseline = ready.rss as number;
    const peak = Math.max(...master.lines.filter((l) => l.event === "rss").map((l) => l.rss as number));
    const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
    t.diagnostic(
      `${total} results of ${payloadBytes / 1024} KiB (${mb(total * payloadBytes)} MiB) read in ${readMs} ms; master RSS ${mb(baseline)} MiB at start, ${mb(peak)} MiB at peak; the sender finished ${sentAll - halfReadAt} ms after half the results were read`,
    );
    assert.equal(counts.size, total, "every result arrived");
    for (const [tag, count] of counts) assert.equal(count, 1, `${tag} arrived ${count} times`);
    assert.ok(peak - baseline < 160 * 2 ** 20, `master RSS grew by ${mb(peak - baseline)} MiB`);
    assert.ok(sentAll > halfReadAt, "the sender was held back until the reader caught up");
  });
});
