import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, beforeEach, describe, it } from "node:test";
import { Client } from "../actors/client.js";
import { Worker } from "../actors/worker.js";
import { type CodecName, getCodec } from "../src/codec/index.js";
import { createMessage } from "../src/message.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { startMaster } from "../src/testing/startMaster.js";
import { contextOf, formatTraceparent } from "../src/tracing/traceContext.js";
import { type FixtureProcess, startFixture } from "./fixtures/jsonProcess.js";
import { installTracing, type SpanLine, spanLines } from "./fixtures/spanFile.js";
import { PythonPeer } from "./python/peers.js";

// One tracer provider for this process (OpenTelemetry registers it once): the client's spans.
const memory = installTracing("client");
const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const logLevel = "silent";

/** The spans of one trace as a chain, each the child of the one before; fails if they do not form one. */
function chain(spans: SpanLine[]): SpanLine[] {
  const traceIds = new Set(spans.map((s) => s.traceId));
  assert.equal(traceIds.size, 1, `one trace: ${JSON.stringify(spans, null, 1)}`);
  const root = spans.filter((s) => s.parentSpanId === undefined);
  assert.equal(root.length, 1, "one root span");
  const out = [root[0]!];
  for (;;) {
    const next = spans.filter((s) => s.parentSpanId === out.at(-1)!.spanId);
    assert.ok(next.length <= 1, "each hop has one child");
    if (next.length === 0) break;
    out.push(next[0]!);
  }
  assert.equal(out.length, spans.length, "every span is in the chain");
  return out;
}

const hops = (spans: SpanLine[]) => spans.map((s) => `${s.process}: ${s.name}`);

describe("trace context on the wire", () => {
  for (const codec of ["msgpack", "palm-protobuf"] as CodecName[]) {
    it(`${codec} carries a message's trace and leaves it out when there is none`, () => {
      const c = getCodec(codec);
      const plain = createMessage({ function: "s.f", payload: Buffer.from("x"), id: "1" });
      const traced = { ...plain, trace: TRACEPARENT };
      const [back] = c.decode(c.encodeOne(traced));
      assert.equal(back?.trace, TRACEPARENT);
      assert.equal(back?.id, "1");
      const [none] = c.decode(c.encodeOne(plain));
      assert.equal(none?.trace, undefined);
      assert.ok(c.encodeOne(traced).length > c.encodeOne(plain).length);
    });
  }

  it("reads a W3C traceparent and ignores anything else", () => {
    const parsed = contextOf(TRACEPARENT);
    assert.notEqual(parsed, contextOf(undefined));
    for (const bad of [
      "",
      "00-xyz",
      `${TRACEPARENT}0`,
      "00-00000000000000000000000000000000-b7ad6b7169203331-01",
    ])
      assert.equal(contextOf(bad), contextOf(undefined), bad);
    assert.equal(
      formatTraceparent({
        traceId: "0af7651916cd43dd8448eb211c80319c",
        spanId: "b7ad6b7169203331",
        traceFlags: 1,
      }),
      TRACEPARENT,
    );
  });

  it("rejects a tracing option that is neither a boolean nor { sampleRatio }, naming it", async () => {
    const [db] = await freeEndpoints(1);
    assert.throws(
      () => new Client({ serverName: "s", dbAddress: db!, tracing: "yes" } as never),
      /`tracing`/,
    );
    assert.throws(() => new Worker({ name: "w", dbAddress: db!, tracing: 1 } as never), /`tracing`/);
  });
});

describe("one call traced across a client, a master and a worker in three processes", () => {
  const processes: FixtureProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), "palm-spans-"));
  beforeEach(() => memory.reset());
  after(async () => {
    await Promise.all(processes.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
  });

  const read = (file: string): SpanLine[] =>
    existsSync(file)
      ? readFileSync(file, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((line) => JSON.parse(line) as SpanLine)
      : [];

  for (const codec of ["msgpack", "palm-protobuf"] as CodecName[]) {
    it(`joins send, route, execute, publish and receive into one trace (${codec})`, async () => {
      const [pullAddress, pubAddress, workerPullAddress, workerPushAddress, dbAddress] =
        await freeEndpoints(5);
      const masterSpans = join(dir, `master-${codec}.jsonl`);
      const workerSpans = join(dir, `worker-${codec}.jsonl`);
      const addresses = { pullAddress, pubAddress, workerPullAddress, workerPushAddress, dbAddress };
      const master = startFixture(
        "masterProcess.ts",
        { name: "server", ...addresses, codec, tracing: true, spanFile: masterSpans },
        { name: "master" },
      );
      processes.push(master);
      await master.waitFor((l) => l.event === "ready");
      const worker = startFixture(
        "workerProcess.ts",
        { name: "w1", dbAddress, codec, tracing: true, spanFile: workerSpans },
        { name: "w1" },
      );
      processes.push(worker);
      await master.waitFor((l) => l.event === "worker.joined");
      const client = new Client({
        serverName: "server",
        dbAddress: dbAddress!,
        codec,
        logLevel,
        tracing: true,
      });
      await client.start();
      try {
        assert.equal(text(await client.eval("server.echo", Buffer.from("traced"))), "traced");
      } finally {
        await client.stop();
      }
      // The master and the worker export each span as it ends, before the result reaches the client.
      const spans = [...spanLines("client", memory), ...read(masterSpans), ...read(workerSpans)];
      const trace = chain(spans);
      assert.deepEqual(hops(trace), [
        "client: send server.echo",
        "master: route server.echo",
        "worker: execute server.echo",
        "master: publish server.echo",
        "client: receive server.echo",
      ]);
      assert.equal(trace[2]!.attributes["palm.peer"], "w1");
      if (codec === "msgpack")
        console.log(
          `# trace ${trace[0]!.traceId}\n${hops(trace)
            .map((h) => `#   ${h}`)
            .join("\n")}`,
        );
      await Promise.all([master.kill("SIGTERM"), worker.kill("SIGTERM")]);
    });
  }
});

describe("trace context through Python pylm peers (palm-protobuf, field 9)", () => {
  const codec = "palm-protobuf";
  beforeEach(() => memory.reset());

  it("comes back from pylm workers behind a palm master", async () => {
    const cluster = await startMaster({
      name: "srv",
      workers: 0,
      client: false,
      master: { codec, tracing: true },
    });
    const db = cluster.addresses.dbAddress;
    const client = new Client({ serverName: "srv", dbAddress: db, codec, logLevel, tracing: true });
    const py = new PythonPeer("pylm_worker.py", ["--name", "py1", "--db", db]);
    try {
      await py.ready();
      await client.start();
      assert.equal(text(await client.eval("srv.upper", Buffer.from("hello"))), "HELLO");
      const trace = chain(spanLines("palm", memory));
      // The pylm worker makes no span, but kept field 9: the publish span is the route span's child.
      assert.deepEqual(hops(trace), [
        "palm: send srv.upper",
        "palm: route srv.upper",
        "palm: publish srv.upper",
        "palm: receive srv.upper",
      ]);
    } finally {
      await client.stop();
      await py.kill();
      await cluster.stop();
    }
  });

  it("crosses a pylm master to a palm worker and back", async () => {
    const [pull, pub, workerPull, workerPush, db] = (await freeEndpoints(5)) as string[];
    const py = new PythonPeer("pylm_master.py", [
      ...["--name", "pym", "--pull", pull!, "--pub", pub!, "--worker-pull", workerPull!],
      ...["--worker-push", workerPush!, "--db", db!],
    ]);
    const upper = (payload: Uint8Array) => Buffer.from(text(payload).toUpperCase());
    const worker = new Worker({
      name: "w1",
      dbAddress: db!,
      codec,
      logLevel,
      tracing: true,
      functions: { upper },
    });
    const client = new Client({ serverName: "pym", dbAddress: db!, codec, logLevel, tracing: true });
    try {
      await py.ready();
      await worker.start();
      await client.start();
      assert.equal(text(await client.eval("pym.upper", Buffer.from("first"))), "FIRST");
      assert.deepEqual(hops(chain(spanLines("palm", memory))), [
        "palm: send pym.upper",
        "palm: execute pym.upper",
        "palm: receive pym.upper",
      ]);
    } finally {
      await client.stop();
      await worker.stop();
      await py.kill();
    }
  });
});
