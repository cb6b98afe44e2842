import assert from "node:assert/strict";
import { connect } from "node:net";
import { afterEach, describe, it } from "node:test";
import * as zmq from "zeromq";
import { PullBypassConnection } from "../actors/connections/pullBypassConnection.js";
import { PushBypassConnection } from "../actors/connections/pushBypassConnection.js";
import { ReqConnection } from "../actors/connections/reqConnection.js";
import { CacheService } from "../actors/services/cacheService.js";
import { PullService } from "../actors/services/pullService.js";
import { PushPullService } from "../actors/services/pushPullService.js";
import { PushService } from "../actors/services/pushService.js";
import { RepBypassService } from "../actors/services/repBypassService.js";
import { RepService } from "../actors/services/repService.js";
import { msgpackCodec } from "../src/codec/index.js";
import { isPalmError } from "../src/errors.js";
import { createMessage, type PalmMessage } from "../src/message.js";
import { ServerTemplate } from "../src/serverTemplate.js";
import { freeEndpoints } from "../src/testing/ports.js";

const codec = msgpackCodec;
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const encode = (fields: Partial<PalmMessage>) => codec.encodeOne(createMessage(fields));
const decodeOne = (frame: Buffer) => codec.decode(frame)[0]!;

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

function track<T extends { close(): void }>(socket: T): T {
  cleanup.push(() => socket.close());
  return socket;
}

async function started(server: ServerTemplate): Promise<ServerTemplate> {
  await server.start();
  cleanup.push(() => server.stop());
  return server;
}

describe("parts", () => {
  it("block + reroute: the REQ caller gets the feedback, the push peer the rerouted copy", async () => {
    const [rep, external, push] = await freeEndpoints(3);
    // An external REP service that upper-cases payloads.
    const echo = track(new zmq.Reply());
    await echo.bind(external!);
    void (async () => {
      for await (const [frame] of echo) {
        const m = decodeOne(frame!);
        await echo.send(codec.encodeOne({ ...m, payload: Buffer.from(text(m.payload).toUpperCase()) }));
      }
    })();
    const server = new ServerTemplate({ name: "s", logLevel: "silent" });
    server.registerInbound(RepService, "Rep", rep!, { route: "Req", block: true });
    server.registerOutbound(ReqConnection, "Req", external!, { route: "Push" });
    server.registerOutbound(PushService, "Push", push!);
    await started(server);
    const peer = track(new zmq.Pull());
    peer.connect(push!);
    const caller = track(new zmq.Request());
    caller.connect(rep!);
    await caller.send(encode({ function: "s.x", payload: Buffer.from("hello") }));
    const [answer] = await caller.receive();
    assert.equal(text(decodeOne(answer!).payload), "HELLO");
    const [copy] = await peer.receive();
    assert.equal(text(decodeOne(copy!).payload), "HELLO");
  });

  it("a blocking outbound waiting 500 ms on a slow peer does not stall another route", async () => {
    const [rep, slow, pull, push] = await freeEndpoints(4);
    const slowPeer = track(new zmq.Reply());
    await slowPeer.bind(slow!);
    let answeredAt = 0;
    void (async () => {
      for await (const [frame] of slowPeer) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        answeredAt = Date.now();
        await slowPeer.send(frame!);
      }
    })();
    const server = new ServerTemplate({ name: "s", logLevel: "silent" });
    server.registerInbound(RepService, "Rep", rep!, { route: "Req", block: true });
    server.registerOutbound(ReqConnection, "Req", slow!);
    server.registerInbound(PullService, "Pull", pull!, { route: "Push" });
    server.registerOutbound(PushService, "Push", push!);
    await started(server);
    const caller = track(new zmq.Request());
    caller.connect(rep!);
    const sender = track(new zmq.Push());
    sender.connect(pull!);
    const receiver = track(new zmq.Pull());
    receiver.connect(push!);
    await caller.send(encode({ function: "s.slow" }));
    const sentAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const deliveredAt: number[] = [];
    for (let i = 0; i < 20; i++)
      await sender.send(encode({ function: "s.fast", payload: Buffer.from(`${i}`) }));
    while (deliveredAt.length < 20) {
      // A frame may carry several messages (palm batches what is queued).
      const [frame] = await receiver.receive();
      for (const _ of codec.decode(frame!)) deliveredAt.push(Date.now());
    }
    await caller.receive();
    assert.ok(answeredAt - sentAt >= 450, "the slow peer really waited");
    assert.equal(deliveredAt.length, 20);
    assert.ok(
      deliveredAt.every((at) => at < answeredAt),
      "all 20 messages on the other route were delivered while the blocking outbound waited",
    );
    const req = server.parts().find((p) => p.name === "Req")!;
    assert.equal(req.state, "running.idle");
  });

  it("serves the cache protocol over a real REQ socket", async () => {
    const [db] = await freeEndpoints(1);
    const server = new ServerTemplate({ name: "s", logLevel: "silent" });
    server.registerBypass(CacheService, "Cache", db!);
    server.presetCache({ name: "s" });
    await started(server);
    const req = track(new zmq.Request());
    req.connect(db!);
    const ask = async (fields: Partial<PalmMessage>) => {
      await req.send(encode(fields));
      const [answer] = await req.receive();
      return answer!;
    };
    assert.equal(
      (await ask({ function: "s.set", cache: "k1", payload: Buffer.from("v1") })).toString(),
      "k1",
    );
    const generated = (await ask({ function: "s.set", payload: Buffer.from("v2") })).toString();
    assert.match(generated, /^[0-9a-f-]{36}$/);
    assert.equal((await ask({ function: "s.get", payload: Buffer.from("k1") })).toString(), "v1");
    assert.equal((await ask({ function: "s.get", payload: Buffer.from(generated) })).toString(), "v2");
    assert.equal((await ask({ function: "s.get", payload: Buffer.from("missing") })).length, 0);
    assert.equal((await ask({ function: "s.delete", payload: Buffer.from("k1") })).toString(), "k1");
    assert.equal((await ask({ function: "s.get", payload: Buffer.from("k1") })).length, 0);
    assert.equal((await ask({ function: "s.get", payload: Buffer.from("name") })).toString(), "s");
    assert.equal((await ask({ function: "s.bogus" })).length, 0, "an unknown cache call is answered empty");
    assert.equal(server.parts()[0]!.badFrames, 1);
  });

  it("keeps serving valid traffic while every bound socket type gets garbage", async () => {
    const [pull, push, rep, db] = await freeEndpoints(4);
    const server = new ServerTemplate({ name: "s", logLevel: "silent" });
    server.registerInbound(PullService, "Pull", pull!, { route: "Push" });
    server.registerOutbound(PushService, "Push", push!);
    server.registerInbound(RepService, "Rep", rep!);
    server.registerBypass(CacheService, "Cache", db!);
    await started(server);
    const garbage = [
      Buffer.from("garbage"),
      Buffer.alloc(0),
      Buffer.from([0x93, 0x01]),
      Buffer.from([0xff, 0xff, 0xff]),
    ];
    // Wrong frames on the PULL: garbage, a multipart message, a frame of the wrong codec.
    const bad = track(new zmq.Push());
    bad.connect(pull!);
    for (const frame of garbage) await bad.send(frame);
    await bad.send([Buffer.from("a"), Buffer.from("b")]);
    // Garbage requests to both REP sockets are answered (an error message, or an empty cache answer).
    for (const address of [rep!, db!]) {
      const req = track(new zmq.Request());
      req.connect(address);
      for (const frame of garbage) {
        await req.send(frame);
        const [answer] = await req.receive();
        if (address === rep) assert.match(decodeOne(answer!).error ?? "", /decode|empty/);
        else assert.equal(answer!.length, 0);
      }
    }
    // Raw bytes that are not ZMTP at all, on every port.
    for (const address of [pull!, push!, rep!, db!]) {
      const [host, port] = address.slice("tcp://".length).split(":");
      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), host, () => {
          socket.write(Buffer.from("GET / HTTP/1.1\r\n\r\n\x00\xff garbage"));
          setTimeout(() => socket.destroy(), 50);
        });
        socket.on("close", () => resolve());
        socket.on("error", () => undefined);
      });
    }
    // Valid traffic still flows.
    const good = track(new zmq.Push());
    good.connect(pull!);
    const receiver = track(new zmq.Pull());
    receiver.connect(push!);
    for (let i = 0; i < 100; i++) await good.send(encode({ function: "s.x", payload: Buffer.from(`${i}`) }));
    const got = new Set<string>();
    while (got.size < 100) {
      const [frame] = await receiver.receive();
      for (const m of codec.decode(frame!)) got.add(text(m.payload));
    }
    assert.equal(got.size, 100);
    const parts = Object.fromEntries(server.parts().map((p) => [p.name, p]));
    assert.equal(parts.Pull!.badFrames, garbage.length + 1);
    assert.equal(parts.Rep!.badFrames, garbage.length);
    assert.equal(parts.Cache!.badFrames, garbage.length);
    assert.ok(server.parts().every((p) => p.restarts === 0 && p.status === "ready"));
  });

  it("PushPullService feeds back what its workers answer; bypass parts skip the router", async () => {
    const [rep, workPush, workPull, bypassRep, sink, source] = await freeEndpoints(6);
    const pulled: string[] = [];
    const sinkPeer = track(new zmq.Pull());
    await sinkPeer.bind(sink!);
    const sourcePeer = track(new zmq.Push());
    await sourcePeer.bind(source!);
    const server = new ServerTemplate({ name: "s", logLevel: "silent" });
    server.registerInbound(RepService, "Rep", rep!, { route: "Workers", block: true });
    server.registerOutbound(PushPullService, "Workers", workPush!, { pullAddress: workPull! });
    server.registerBypass(RepBypassService, "Echo", bypassRep!, {
      handle: (m: PalmMessage) => Buffer.from(`echo:${text(m.payload)}`),
    });
    server.registerBypass(PushBypassConnection, "Out", sink!);
    server.registerBypass(PullBypassConnection, "In", source!, {
      handle: (m: PalmMessage) => pulled.push(text(m.payload)),
    });
    await started(server);
    // A worker for the PushPullService: answers with the payload reversed.
    const wIn = track(new zmq.Pull());
    wIn.connect(workPush!);
    const wOut = track(new zmq.Push());
    wOut.connect(workPull!);
    void (async () => {
      for await (const [frame] of wIn) {
        const m = decodeOne(frame!);
        await wOut.send(
          codec.encodeOne({ ...m, payload: Buffer.from(text(m.payload).split("").reverse().join("")) }),
        );
      }
    })();
    const caller = track(new zmq.Request());
    caller.connect(rep!);
    await caller.send(encode({ function: "s.rev", payload: Buffer.from("abc") }));
    assert.equal(text(decodeOne((await caller.receive())[0]!).payload), "cba");
    const echo = track(new zmq.Request());
    echo.connect(bypassRep!);
    await echo.send(encode({ payload: Buffer.from("x") }));
    assert.equal(text(decodeOne((await echo.receive())[0]!).payload), "echo:x");
    server.sendBypass("Out", [createMessage({ payload: Buffer.from("side") })]);
    assert.equal(text(decodeOne((await sinkPeer.receive())[0]!).payload), "side");
    await sourcePeer.send(encode({ payload: Buffer.from("in") }));
    while (pulled.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(pulled, ["in"]);
  });
});

describe("ServerTemplate misconfiguration", () => {
  it("names the part and option: duplicate names, unknown routes, bad addresses, ports in use", async () => {
    const [a, b] = await freeEndpoints(2);
    const t = new ServerTemplate({ name: "s", logLevel: "silent" });
    t.registerInbound(PullService, "Pull", a!, { route: "Nowhere" });
    assert.throws(
      () => t.registerInbound(PullService, "Pull", b!),
      (e) => isPalmError(e, "PALM_ERR_TEMPLATE_DUPLICATE_PART") && /"Pull"/.test(e.message),
    );
    assert.throws(
      () => t.registerOutbound(PushService, "Push", "5555" as string),
      /Expected `address \(part "Push"\)` to be a ZeroMQ endpoint like tcp:\/\/host:port, got `"5555"` \(string\)/,
    );
    assert.throws(() => t.registerOutbound(PullService, "X", b!), /an outbound part/);
    assert.throws(() => new ServerTemplate({ name: "" }), /Expected `name` to be a non-empty string/);
    assert.throws(() => new ServerTemplate({ name: "s", codec: "json" as never }), /`codec`/);
    assert.throws(
      () => new ServerTemplate({ name: "s", supervision: { strategy: "all" as never } }),
      /`supervision.strategy`/,
    );
    await assert.rejects(
      t.start(),
      (e) =>
        isPalmError(e, "PALM_ERR_TEMPLATE_UNKNOWN_ROUTE") && /"Pull" routes to "Nowhere"/.test(e.message),
    );

    const holder = track(new zmq.Pull());
    await holder.bind(b!);
    const busy = new ServerTemplate({ name: "s", logLevel: "silent" });
    busy.registerInbound(PullService, "Taken", b!);
    await assert.rejects(
      busy.start(),
      (e) => isPalmError(e, "PALM_ERR_PART_SOCKET") && /"Taken"/.test(e.message),
    );
    await busy.stop();
  });
});
