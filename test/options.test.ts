import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Client } from "../actors/client.js";
import { GatewayServer } from "../actors/gateway/gatewayServer.js";
import { HttpWorker } from "../actors/httpWorker.js";
import { Hub } from "../actors/servers/hub.js";
import { Master } from "../actors/servers/master.js";
import { Pipeline } from "../actors/servers/pipeline.js";
import { Server } from "../actors/servers/server.js";
import { Sink } from "../actors/servers/sink.js";
import { MuxWorker, Worker } from "../actors/worker.js";
import { CacheClient } from "../src/cacheClient.js";
import { msgpackCodec } from "../src/codec/msgpack.js";
import { isPalmError } from "../src/errors.js";
import { ServerTemplate } from "../src/serverTemplate.js";
import { freeEndpoints } from "../src/testing/ports.js";

// Constructor options that cannot be right fail at construction, naming what is wrong: an unknown key
// (with the known one it is closest to), two bound addresses that are the same. A client's calls after
// `stop()` reject rather than throw.

const quiet = { logLevel: "silent" } as const;
const a = (port: number) => `tcp://127.0.0.1:${port}`;
const master = {
  name: "server",
  pullAddress: a(7001),
  pubAddress: a(7002),
  workerPullAddress: a(7003),
  workerPushAddress: a(7004),
  dbAddress: a(7005),
};
const hub = { ...master, pullAddress: undefined, subAddress: a(7006), previous: "server" };
const server = { name: "server", pullAddress: a(7001), pubAddress: a(7002), dbAddress: a(7005) };
const pipeline = { name: "p", subAddress: a(7006), pubAddress: a(7002), dbAddress: a(7005), previous: "s" };
const sink = { ...pipeline, subAddress: undefined, subAddresses: [a(7006)], previous: ["s"] };
const gateway = {
  name: "server",
  httpAddress: "http://127.0.0.1:7007",
  workerPullAddress: a(7003),
  workerPushAddress: a(7004),
  dbAddress: a(7005),
};
const { pullAddress: _pull, ...hubOptions } = hub;
const { subAddress: _sub, ...sinkOptions } = sink;

/** Each public constructor with options it accepts (nothing here binds or connects). */
const constructors: Array<[string, (options: Record<string, unknown>) => unknown, object]> = [
  ["Master", (o) => new Master(o as never), master],
  ["Hub", (o) => new Hub(o as never), hubOptions],
  ["Server", (o) => new Server(o as never), server],
  ["Pipeline", (o) => new Pipeline(o as never), pipeline],
  ["Sink", (o) => new Sink(o as never), sinkOptions],
  ["GatewayServer", (o) => new GatewayServer(o as never), gateway],
  ["ServerTemplate", (o) => new ServerTemplate(o as never), { name: "server" }],
  ["Worker", (o) => new Worker(o as never), { name: "w", dbAddress: a(7005) }],
  ["MuxWorker", (o) => new MuxWorker(o as never), { name: "w", dbAddress: a(7005) }],
  ["HttpWorker", (o) => new HttpWorker(o as never), {}],
  ["Client", (o) => new Client(o as never), { serverName: "server", dbAddress: a(7005) }],
];

const invalid = (pattern: RegExp) => (error: unknown) => {
  assert.ok(isPalmError(error, "PALM_ERR_OPTION_INVALID"), String(error));
  assert.match(error.message, pattern);
  return true;
};

describe("unknown option keys", () => {
  for (const [owner, build, options] of constructors) {
    it(`${owner} rejects an unknown key, naming it and the constructor`, () => {
      assert.doesNotThrow(() => build({ ...options, ...quiet }));
      assert.throws(
        () => build({ ...options, ...quiet, bogus: 1 }),
        invalid(new RegExp(`^Unknown option \`bogus\` for ${owner}; it accepts: .*logLevel`)),
      );
    });
  }

  it("suggests the key a typo is closest to", () => {
    assert.throws(
      () => new Master({ ...master, callTimeoutMS: 5 } as never),
      invalid(/^Unknown option `callTimeoutMS` for Master; did you mean `callTimeoutMs`\?$/),
    );
    assert.throws(
      () => new Server({ ...server, pubAdress: a(7009) } as never),
      invalid(/^Unknown option `pubAdress` for Server; did you mean `pubAddress`\?$/),
    );
    assert.throws(
      () => new Client({ serverName: "s", dbAddress: a(7005), timeoutMS: 5 } as never),
      invalid(/did you mean `timeoutMs`\?$/),
    );
  });

  it("CacheClient refuses an unknown key too, suggesting the closest (it opens no socket until used)", () => {
    const cache = { address: a(7005), codec: msgpackCodec, serverName: "server" };
    assert.doesNotThrow(() => new CacheClient({ ...cache, timeoutMs: 5 }).close());
    assert.throws(
      () => new CacheClient({ ...cache, timeoutMS: 5 } as never),
      invalid(/^Unknown option `timeoutMS` for CacheClient; did you mean `timeoutMs`\?$/),
    );
    assert.throws(
      () => new CacheClient({ ...cache, bogus: 1 } as never),
      invalid(
        /^Unknown option `bogus` for CacheClient; it accepts: address, codec, serverName, timeoutMs, curve$/,
      ),
    );
  });

  it("lets a server's options through to its template and parts", () => {
    const built = new Master({ ...master, ...quiet, callTimeoutMs: 5000, highWater: 10, tracing: false });
    assert.equal(built.name, "server");
    assert.equal(built.template.name, "server");
  });
});

describe("equal bind addresses", () => {
  // Per server: an address option set equal to another, the two names the error gives, and the port.
  const clashes: Array<[string, () => unknown, string, string, number]> = [
    ["Master", () => new Master({ ...master, pubAddress: a(7001) }), "pullAddress", "pubAddress", 7001],
    [
      "Hub",
      () => new Hub({ ...hubOptions, workerDispatchAddress: a(7005) }),
      "dbAddress",
      "workerDispatchAddress",
      7005,
    ],
    [
      "Server",
      () => new Server({ ...server, resultStreamAddress: a(7002) }),
      "pubAddress",
      "resultStreamAddress",
      7002,
    ],
    ["Pipeline", () => new Pipeline({ ...pipeline, dbAddress: a(7002) }), "pubAddress", "dbAddress", 7002],
    ["Sink", () => new Sink({ ...sinkOptions, dbAddress: a(7002) }), "pubAddress", "dbAddress", 7002],
    [
      "GatewayServer",
      () => new GatewayServer({ ...gateway, workerPushAddress: a(7003) }),
      "workerPullAddress",
      "workerPushAddress",
      7003,
    ],
  ];
  for (const [owner, build, first, second, port] of clashes) {
    it(`${owner} names both options at construction`, () => {
      const message = `^Expected \`${first}\` and \`${second}\` to differ: both are tcp://127\\.0\\.0\\.1:${port},`;
      assert.throws(build, invalid(new RegExp(message)));
    });
  }

  it("leave wildcard ports and connected addresses alone", () => {
    assert.doesNotThrow(
      () => new Master({ ...master, pubAddress: "tcp://127.0.0.1:*", pullAddress: "tcp://127.0.0.1:*" }),
    );
    // A Pipeline connects its SUB: the same address as its PUB is odd, but not a double bind.
    assert.doesNotThrow(() => new Pipeline({ ...pipeline, subAddress: pipeline.pubAddress }));
  });
});

describe("a client's calls after stop()", () => {
  const stoppers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const stop of stoppers.splice(0).reverse()) await stop();
  });

  it("reject and never throw", async () => {
    const [dbAddress, pullAddress, pubAddress] = await freeEndpoints(3);
    const running = new Server({
      name: "server",
      dbAddress: dbAddress!,
      pullAddress: pullAddress!,
      pubAddress: pubAddress!,
      functions: { echo: (payload) => payload },
      ...quiet,
    });
    stoppers.push(() => running.stop());
    await running.start();
    const client = new Client({ serverName: "server", dbAddress: dbAddress!, ...quiet });
    stoppers.push(() => client.stop());
    const early = client.eval("server.echo", Buffer.from("x"));
    await assert.rejects(early, (error: unknown) => isPalmError(error, "PALM_ERR_CLIENT_STATE"));
    await client.start();
    assert.equal(Buffer.from(await client.eval("server.echo", Buffer.from("x"))).toString(), "x");
    await client.stop();
    const stopped = (error: unknown) =>
      isPalmError(error, "PALM_ERR_CLIENT_STATE") && /stopped/.test(error.message);
    let calls: Array<Promise<unknown>> = [];
    assert.doesNotThrow(() => {
      calls = [
        client.eval("server.echo", Buffer.from("x")),
        client.eval("echo", Buffer.from("x")),
        client.eval("server.echo", "text" as never),
        client.get(""),
        client.delete(""),
      ];
    });
    await assert.rejects(calls[0]!, stopped);
    await assert.rejects(calls[1]!, invalid(/as in "server\.echo"/));
    await assert.rejects(calls[2]!, TypeError);
    await assert.rejects(calls[3]!, invalid(/`key`/));
    await assert.rejects(calls[4]!, invalid(/`key`/));
    const job = client.job("server.echo", [Buffer.from("x")]);
    await assert.rejects(job.next(), stopped);
  });
});
