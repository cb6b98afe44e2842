import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import * as zmq from "zeromq";
import { CacheService } from "../actors/services/cacheService.js";
import { PubService } from "../actors/services/pubService.js";
import { PullService } from "../actors/services/pullService.js";
import { WorkerPullService } from "../actors/services/workerPullService.js";
import { WorkerPushService } from "../actors/services/workerPushService.js";
import { msgpackCodec } from "../src/codec/index.js";
import { createMessage } from "../src/message.js";
import { ServerTemplate } from "../src/serverTemplate.js";
import { freeEndpoints } from "../src/testing/ports.js";

describe("ServerTemplate: the seed's master", () => {
  const closers: Array<() => unknown> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  it("serves a raw worker and a raw client: 1,000 messages, each result once, on the client's topic", async () => {
    const [pull, pub, workerPull, workerPush, db] = await freeEndpoints(5);
    const server = new ServerTemplate({ name: "server", logLevel: "silent" });
    server.registerInbound(PullService, "Pull", pull!, { route: "WorkerPush" });
    server.registerOutbound(WorkerPushService, "WorkerPush", workerPush!);
    server.registerInbound(WorkerPullService, "WorkerPull", workerPull!, { route: "Pub" });
    server.registerOutbound(PubService, "Pub", pub!);
    server.registerBypass(CacheService, "Cache", db!);
    server.presetCache({ name: "server", pull_address: pull!, pub_address: pub! });
    await server.start();
    closers.push(() => server.stop());

    // A worker written with raw zeromq.js: upper-cases every payload.
    const wIn = new zmq.Pull();
    const wOut = new zmq.Push();
    wIn.connect(workerPush!);
    wOut.connect(workerPull!);
    closers.push(() => {
      wIn.close();
      wOut.close();
    });
    void (async () => {
      for await (const [frame] of wIn) {
        const out = msgpackCodec
          .decode(frame!)
          .map((m) => ({ ...m, payload: Buffer.from(Buffer.from(m.payload).toString().toUpperCase()) }));
        await wOut.send(msgpackCodec.encode(out)[0]!);
      }
    })();

    // A client written with raw zeromq.js, subscribed to its own id.
    const sub = new zmq.Subscriber();
    const push = new zmq.Push();
    sub.connect(pub!);
    sub.subscribe("client-1");
    push.connect(pull!);
    closers.push(() => {
      sub.close();
      push.close();
    });
    // Wait until the subscription is live: probe with one message until its result arrives.
    const seen = new Map<string, number>();
    const topics = new Set<string>();
    let probeAnswered = false;
    const reader = (async () => {
      for await (const [topic, frame] of sub) {
        topics.add(topic!.toString());
        for (const m of msgpackCodec.decode(frame!)) {
          if (m.cache === "probe") probeAnswered = true;
          else
            seen.set(
              Buffer.from(m.payload).toString(),
              (seen.get(Buffer.from(m.payload).toString()) ?? 0) + 1,
            );
        }
        if (seen.size === 1000) break;
      }
    })();
    while (!probeAnswered) {
      await push.send(
        msgpackCodec.encodeOne(
          createMessage({ client: "client-1", function: "server.upper", cache: "probe" }),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (let i = 0; i < 1000; i++) {
      await push.send(
        msgpackCodec.encodeOne(
          createMessage({ client: "client-1", function: "server.upper", payload: Buffer.from(`m${i}`) }),
        ),
      );
    }
    await reader;
    assert.equal(seen.size, 1000);
    for (let i = 0; i < 1000; i++) assert.equal(seen.get(`M${i}`), 1, `result M${i} arrives exactly once`);
    assert.deepEqual([...topics], ["client-1"]);
    const parts = Object.fromEntries(server.parts().map((p) => [p.name, p]));
    assert.equal(parts.Pull!.state, "running.ready.flowing");
    assert.equal(parts.WorkerPush!.pending, 0);
  });
});

describe("ServerTemplate: typed part options", () => {
  it("rejects an unknown option key at registration, naming the part and the key", () => {
    const server = new ServerTemplate({ name: "typo", logLevel: "silent" });
    server.registerOutbound(PubService, "Out", "tcp://127.0.0.1:5556");
    // `rout` is a typo for `route`: the types reject it, and so does the server at run time.
    const typo = { rout: "Out" } as Parameters<typeof server.registerInbound>[3];
    assert.throws(() => server.registerInbound(PullService, "Pull", "tcp://127.0.0.1:5555", typo), {
      code: "PALM_ERR_OPTION_INVALID",
      message:
        /^Unknown option `rout` for part "Pull" \(PullService\); it accepts the common part options \(route, /,
    });
    assert.deepEqual(server.partNames, ["Out"]);
  });

  it("accepts the common options and the part's own keys, and rejects another part's keys", () => {
    const server = new ServerTemplate({ name: "keys", logLevel: "silent" });
    server.registerOutbound(WorkerPushService, "WorkerPush", "tcp://127.0.0.1:5558", {
      spread: false,
      highWater: 10,
    });
    server.registerOutbound(PubService, "Pub", "tcp://127.0.0.1:5556", { pipelined: true, greet: false });
    const foreign = { spread: true } as Parameters<typeof server.registerOutbound>[3];
    assert.throws(() => server.registerOutbound(PubService, "Pub2", "tcp://127.0.0.1:5560", foreign), {
      code: "PALM_ERR_OPTION_INVALID",
      message:
        /^Unknown option `spread` for part "Pub2" \(PubService\); .*, or its own: pipelined, greet, heartbeatMs, streamClients, streamFollowers, streamAddress, streamsPart, noDrop$/,
    });
  });
});
