import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { afterEach, describe, it } from "node:test";
import { type AnyActorRef, createActor, fromCallback, setup } from "xstate";
import { Client } from "../actors/client.js";
import { HttpConnection } from "../actors/connections/httpConnection.js";
import { HttpWorker } from "../actors/httpWorker.js";
import { CacheService } from "../actors/services/cacheService.js";
import { HttpService } from "../actors/services/httpService.js";
import { PubService } from "../actors/services/pubService.js";
import { PullService } from "../actors/services/pullService.js";
import { bridgeCommands, partEvents } from "../machines/events.js";
import { httpInboundPartMachine } from "../machines/httpInboundPart.js";
import { httpOutboundPartMachine } from "../machines/httpOutboundPart.js";
import {
  type HttpBridgeCommand,
  type HttpPartEvent,
  httpBridgeCommands,
  httpPartEvents,
} from "../machines/httpPartSetup.js";
import type { PartInput } from "../machines/partSetup.js";
import { closeServer } from "../src/bridges/httpEdge.js";
import { msgpackCodec } from "../src/codec/index.js";
import { RemoteError } from "../src/errors.js";
import { createMessage, type PalmMessage } from "../src/message.js";
import { ServerTemplate, stateName } from "../src/serverTemplate.js";
import { freeEndpoints, freePort } from "../src/testing/ports.js";
import { startProcess, type TestProcess } from "./support/httpProcesses.js";

const codec = msgpackCodec;
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const message = (payload: string, fields: Partial<PalmMessage> = {}) =>
  createMessage({ function: "server.echo", payload: Buffer.from(payload), ...fields });
const post = (url: string, m: PalmMessage) =>
  fetch(url, { method: "POST", body: codec.encodeOne(m) as Uint8Array<ArrayBuffer> });
const freeHttp = async () => `http://127.0.0.1:${await freePort()}`;
/** What every example server prints once it serves. */
const READY = /^ready$/m;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

/** Runs a part machine under a stand-in router that records what the part sends it; the bridge is fake. */
function runPart(machine: typeof httpInboundPartMachine | typeof httpOutboundPartMachine) {
  const commands: HttpBridgeCommand[] = [];
  const toRouter: Array<{ type: string; [key: string]: unknown }> = [];
  let fromBridge: ((event: HttpPartEvent) => void) | undefined;
  const bridge = fromCallback<HttpBridgeCommand, PartInput>(({ sendBack, receive }) => {
    fromBridge = sendBack as (event: HttpPartEvent) => void;
    receive((command) => commands.push(command));
  });
  const part = (machine as typeof httpOutboundPartMachine).provide({ actors: { bridge } });
  const router = setup({ actors: { part } }).createMachine({
    invoke: { id: "part", src: "part", input: { name: "Http", role: "outbound", partType: "Http" } },
    on: { "*": { actions: ({ event }) => void toRouter.push(event) } },
  });
  const actor = createActor(router).start();
  const child = () => (actor.getSnapshot().children as Record<string, AnyActorRef>).part!;
  return {
    commands,
    toRouter,
    bridgeSends: (event: HttpPartEvent) => fromBridge!(event),
    routerSends: (event: HttpPartEvent) => child().send(event),
    state: () => stateName(child().getSnapshot().value),
    stop: () => actor.stop(),
  };
}

describe("HTTP part machines (pure, no sockets)", () => {
  it("HttpConnection's machine never posts more than its slots and acknowledges deliveries in order", () => {
    const part = runPart(httpOutboundPartMachine);
    cleanup.push(part.stop);
    part.bridgeSends(httpPartEvents.open(2));
    assert.equal(part.state(), "running.idle");
    const [a, b, c, d] = ["a", "b", "c", "d"].map((p) => message(p));
    part.routerSends(partEvents.deliver({ seq: 1, messages: [a!, b!, c!], origin: undefined, ticket: 0 }));
    part.routerSends(partEvents.deliver({ seq: 2, messages: [d!], origin: undefined, ticket: 0 }));
    assert.deepEqual(part.commands, [httpBridgeCommands.post(1, 0, a!), httpBridgeCommands.post(1, 1, b!)]);
    assert.equal(part.state(), "running.posting.saturated");
    part.bridgeSends(httpPartEvents.posted(1, 1, [message("B")]));
    assert.deepEqual(part.commands.at(-1), httpBridgeCommands.post(1, 2, c!));
    part.bridgeSends(httpPartEvents.posted(1, 2, [message("C")]));
    assert.deepEqual(part.commands.at(-1), httpBridgeCommands.post(2, 0, d!));
    part.bridgeSends(httpPartEvents.posted(2, 0, [message("D")]));
    // Delivery 2 is answered, but delivery 1 is not yet: nothing is acknowledged out of order.
    assert.equal(part.toRouter.filter((e) => e.type === "router.ack").length, 0);
    part.bridgeSends(httpPartEvents.posted(1, 0, [message("A")]));
    const acks = part.toRouter.filter((e) => e.type === "router.ack") as unknown as Array<{
      seq: number;
      feedback: PalmMessage[];
    }>;
    assert.deepEqual(
      acks.map((ack) => [ack.seq, ack.feedback.map((m) => text(m.payload)).join("")]),
      [
        [1, "ABC"],
        [2, "D"],
      ],
    );
    assert.equal(part.state(), "running.idle");
  });

  it("HttpService's machine routes each request with its ticket, answers by ticket, and waits when full", () => {
    const part = runPart(httpInboundPartMachine);
    cleanup.push(part.stop);
    part.bridgeSends(httpPartEvents.open(2));
    assert.equal(part.state(), "running.listening.accepting");
    part.bridgeSends(httpPartEvents.request(41, [message("x")]));
    part.bridgeSends(httpPartEvents.request(42, [message("y")]));
    const routed = part.toRouter.filter((e) => e.type === "router.route");
    assert.deepEqual(
      routed.map((e) => e.ticket),
      [41, 42],
    );
    assert.equal(part.state(), "running.listening.waiting");
    assert.deepEqual(part.commands, [bridgeCommands.pause()]);
    part.routerSends(partEvents.feedback(42, [message("Y")]));
    assert.deepEqual(part.commands.at(-1), httpBridgeCommands.answer(42, [message("Y")]));
    part.bridgeSends(httpPartEvents.answered(42));
    assert.equal(part.state(), "running.listening.accepting");
    assert.deepEqual(part.commands.at(-1), bridgeCommands.resume());
    // The router holding it back makes it wait too, whatever its free slots.
    part.routerSends(partEvents.pause());
    assert.equal(part.state(), "running.listening.waiting");
    part.routerSends(partEvents.resume());
    assert.equal(part.state(), "running.listening.accepting");
  });
});

/** An HTTP worker on a free port, stopped after the test. */
async function httpWorker(functions: Record<string, (payload: Uint8Array) => unknown>): Promise<HttpWorker> {
  const worker = new HttpWorker({ address: await freeHttp(), functions, logLevel: "silent" });
  await worker.start();
  cleanup.push(() => worker.stop());
  return worker;
}

/** A server with an HttpService (blocking) whose route is an HttpConnection to `workerUrl`. */
async function httpChain(workerUrl: string, connection: Record<string, unknown> = {}, service = {}) {
  const url = await freeHttp();
  const server = new ServerTemplate({ name: "server", logLevel: "silent" });
  server.registerInbound(HttpService, "Http", url, { route: "HttpConnection", block: true, ...service });
  server.registerOutbound(HttpConnection, "HttpConnection", workerUrl, connection);
  await server.start();
  cleanup.push(() => server.stop());
  return { server, url };
}

describe("HttpService, HttpConnection and HttpWorker", () => {
  it("answers each of 300 concurrent POSTs with its own feedback, through an HttpConnection to an HTTP worker", async () => {
    const worker = await httpWorker({ upper: (p) => Buffer.from(text(p).toUpperCase()) });
    const { url } = await httpChain(worker.address);
    const answers = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const response = await post(url, message(`m${i}`, { function: "server.upper", id: `id-${i}` }));
        assert.equal(response.status, 200);
        return codec.decode(Buffer.from(await response.arrayBuffer()))[0]!;
      }),
    );
    answers.forEach((answer, i) => {
      assert.equal(text(answer.payload), `M${i}`);
      assert.equal(answer.id, `id-${i}`);
      assert.equal(answer.error, undefined);
    });
  });

  it("HttpService answers 405 to other methods, 400 to a body that is no message, 413 over maxMessageSize", async () => {
    const url = await freeHttp();
    const server = new ServerTemplate({ name: "server", logLevel: "silent" });
    server.registerInbound(HttpService, "Http", url, { block: true, maxMessageSize: 1024 });
    await server.start();
    cleanup.push(() => server.stop());
    const get = await fetch(url);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    assert.match(await get.text(), /POST a serialised message/);
    const garbage = await fetch(url, { method: "POST", body: "not a message" });
    assert.equal(garbage.status, 400);
    assert.match(await garbage.text(), /^bad request: /);
    const big = await post(url, message("x".repeat(2048)));
    assert.equal(big.status, 413);
    assert.match(await big.text(), /larger than 1024 bytes/);
    // With no route, a request is answered with itself, as a REP part without route is.
    const plain = await post(url, message("same"));
    assert.equal(text(codec.decode(Buffer.from(await plain.arrayBuffer()))[0]!.payload), "same");
    const info = server.parts().find((p) => p.name === "Http")!;
    assert.equal(info.badFrames, 1);
    assert.equal(info.state, "running.listening.accepting");
  });

  it("HttpService restarts after a crash, listens again on its port and serves", async () => {
    const worker = await httpWorker({ echo: (p) => p });
    const { server, url } = await httpChain(worker.address);
    const restarted = new Promise((resolve) => server.on("part.restarted", resolve));
    server.crash("Http");
    await restarted;
    const response = await post(url, message("again"));
    assert.equal(response.status, 200);
    assert.equal(text(codec.decode(Buffer.from(await response.arrayBuffer()))[0]!.payload), "again");
    assert.equal(server.parts().find((p) => p.name === "Http")!.restarts, 1);
  });

  it("HttpConnection with maxWorkers 4 never has more than 4 requests in flight at its worker", async () => {
    let inFlight = 0;
    let most = 0;
    let served = 0;
    const counting: Server = createServer((request, response) => {
      inFlight++;
      most = Math.max(most, inFlight);
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        setTimeout(() => {
          inFlight--;
          served++;
          response.end(Buffer.concat(chunks)); // the message back, unchanged
        }, 20);
      });
    });
    const workerUrl = await freeHttp();
    await new Promise<void>((resolve) =>
      counting.listen(Number(new URL(workerUrl).port), "127.0.0.1", resolve),
    );
    cleanup.push(() => closeServer(counting));
    const { url } = await httpChain(workerUrl, { maxWorkers: 4 });
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => post(url, message(`m${i}`)).then((r) => r.status)),
    );
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.equal(served, 40);
    assert.equal(most, 4, "the bound is reached and never passed");
  });

  it("a worker that never answers, or is not there, makes an error feedback, never a hang", async () => {
    const silent = createServer(() => undefined); // takes requests, answers none
    const silentUrl = await freeHttp();
    await new Promise<void>((resolve) =>
      silent.listen(Number(new URL(silentUrl).port), "127.0.0.1", resolve),
    );
    cleanup.push(() => closeServer(silent));
    const slow = await httpChain(silentUrl, { timeoutMs: 200 });
    const late = codec.decode(Buffer.from(await (await post(slow.url, message("x"))).arrayBuffer()))[0]!;
    assert.match(late.error ?? "", /no answer within 200 ms/);
    const gone = await httpChain(await freeHttp());
    const refused = codec.decode(Buffer.from(await (await post(gone.url, message("x"))).arrayBuffer()))[0]!;
    assert.match(refused.error ?? "", /POST http:\/\/127\.0\.0\.1:\d+ failed: fetch failed: .*ECONNREFUSED/);
  });

  it("a worker that answers without end is cut off at maxMessageSize: an error feedback, not the server's heap", async () => {
    let closed = 0;
    const flood = createServer((_request, response) => {
      response.writeHead(200); // no content-length: the body streams until the reader stops
      const chunk = Buffer.alloc(64 * 1024, 0x91);
      const more = () => {
        while (response.write(chunk));
      };
      response.on("drain", more);
      response.on("close", () => {
        closed++;
        response.off("drain", more);
      });
      more();
    });
    const floodUrl = await freeHttp();
    await new Promise<void>((resolve) => flood.listen(Number(new URL(floodUrl).port), "127.0.0.1", resolve));
    cleanup.push(() => closeServer(flood));
    const chain = await httpChain(floodUrl, { timeoutMs: 20_000, maxMessageSize: 1024 * 1024 });
    const answer = codec.decode(Buffer.from(await (await post(chain.url, message("x"))).arrayBuffer()))[0]!;
    assert.match(answer.error ?? "", /the answer is larger than 1048576 bytes \(maxMessageSize\)/);
    // The POST was cancelled: the worker's response closed rather than streaming on.
    const deadline = Date.now() + 10_000;
    while (closed === 0 && Date.now() < deadline) await sleep(20);
    assert.equal(closed, 1);
  });

  it("HttpWorker answers 405 to other methods and 500 with the message (error set) when its function throws", async () => {
    const worker = await httpWorker({
      fail: () => {
        throw new Error("boom");
      },
    });
    const get = await fetch(worker.address);
    assert.equal(get.status, 405);
    assert.match(await get.text(), /method GET not allowed/);
    const failed = await post(worker.address, message("x", { function: "server.fail", id: "7" }));
    assert.equal(failed.status, 500);
    assert.equal(failed.headers.get("x-palm-error"), "Error: boom");
    const answer = codec.decode(Buffer.from(await failed.arrayBuffer()))[0]!;
    assert.equal(answer.error, "Error: boom");
    assert.equal(answer.id, "7");
    const unknown = await post(worker.address, message("x", { function: "server.nope" }));
    assert.equal(unknown.status, 500);
    assert.match(unknown.headers.get("x-palm-error") ?? "", /unknown function "nope"/);
    const garbage = await fetch(worker.address, { method: "POST", body: "garbage" });
    assert.equal(garbage.status, 400);
  });
});

describe("HTTP workers as processes (examples/http)", () => {
  it("the example's master, worker and client: 10 results through HttpConnection", async () => {
    const [pull, pub, db] = await freeEndpoints(3);
    const env = {
      PALM_PULL: pull!,
      PALM_PUB: pub!,
      PALM_DB: db!,
      PALM_HTTP: await freeHttp(),
    };
    const processes: TestProcess[] = [];
    try {
      processes.push(await startProcess("examples/http/worker.ts", { env, ready: READY }));
      processes.push(await startProcess("examples/http/master.ts", { env, ready: READY }));
      const client = await startProcess("examples/http/client.ts", {
        env,
        ready: /(a message processed online\n){10}/,
      });
      processes.push(client);
      assert.equal(client.output().match(/a message processed online/g)?.length, 10);
    } finally {
      for (const child of processes) await child.kill();
    }
  });

  it("an HTTP worker killed mid-stream costs its messages error results; the server keeps serving", async () => {
    const [pull, pub, db] = await freeEndpoints(3);
    const workerUrl = await freeHttp();
    const env = { PALM_HTTP: workerUrl };
    const server = new ServerTemplate({ name: "server", logLevel: "silent" });
    server.registerInbound(PullService, "Pull", pull!, { route: "HttpConnection" });
    server.registerOutbound(HttpConnection, "HttpConnection", workerUrl, { route: "Pub", timeoutMs: 2000 });
    server.registerOutbound(PubService, "Pub", pub!);
    server.registerBypass(CacheService, "Cache", db!);
    server.presetCache({ name: "server", pull_address: pull!, pub_address: pub! });
    await server.start();
    cleanup.push(() => server.stop());
    const client = new Client({ serverName: "server", dbAddress: db!, logLevel: "silent" });
    await client.start();
    cleanup.push(() => client.stop());

    let worker = await startProcess("examples/http/worker.ts", { env, ready: READY });
    try {
      const total = 150;
      // The stream is paced, and held while the worker restarts, so messages meet it alive, dead, and back.
      let gate = Promise.resolve();
      async function* paced() {
        for (let i = 0; i < total; i++) {
          await gate;
          yield Buffer.from(`m${i}`);
          await sleep(5);
        }
      }
      const results: Array<string | RemoteError> = [];
      for await (const result of client.job("server.echo", paced(), { messages: total })) {
        results.push(result instanceof RemoteError ? result : text(result));
        if (results.length === 40) await worker.kill(); // mid-stream, by PID: no goodbye
        if (results.length === 80) {
          let reopen!: () => void;
          gate = new Promise((resolve) => {
            reopen = resolve;
          });
          worker = await startProcess("examples/http/worker.ts", { env, ready: READY });
          reopen();
        }
      }
      assert.equal(results.length, total, "every message got a result: none hung");
      const errors = results.filter((r) => r instanceof RemoteError) as RemoteError[];
      assert.ok(errors.length > 0, "the dead worker's messages are errors");
      for (const error of errors) assert.match(error.remoteCause, /POST http:\/\/127\.0\.0\.1:\d+ failed/);
      assert.ok(
        results.slice(0, 40).every((r) => typeof r === "string"),
        "before the kill, every result is data",
      );
      assert.equal(typeof results.at(-1), "string", "after the worker is back, results are data again");
      assert.equal(text(await client.eval("server.echo", Buffer.from("still here"))), "still here");
      const part = server.parts().find((p) => p.name === "HttpConnection")!;
      assert.equal(part.restarts, 0);
    } finally {
      await worker.kill();
    }
  });
});
