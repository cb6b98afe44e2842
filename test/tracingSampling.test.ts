import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { type Context, trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  type Sampler,
  SamplingDecision,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { Client } from "../actors/client.js";
import { Server } from "../actors/servers/server.js";
import { Worker } from "../actors/worker.js";
import { getCodec } from "../src/codec/index.js";
import { createMessage } from "../src/message.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { startMaster } from "../src/testing/startMaster.js";
import { checkTracingOption, HeadSampler, NOT_SAMPLED, traceHop } from "../src/tracing/hops.js";
import { formatTraceparent } from "../src/tracing/traceContext.js";

// One provider for this process: a root sampler the test switches, servers and workers follow the call.
let sampleRoots = false;
/** How many root decisions the SDK was asked for. */
let rootDecisions = 0;
const root: Sampler = {
  shouldSample: (_context: Context) => {
    rootDecisions++;
    return { decision: sampleRoots ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
  },
  toString: () => "switched",
};
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  sampler: new ParentBasedSampler({ root }),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
trace.setGlobalTracerProvider(provider);
after(() => provider.shutdown());

describe("a call its first hop did not sample", () => {
  it("carries NOT_SAMPLED, which every later hop and both codecs pass on unchanged", () => {
    sampleRoots = false;
    exporter.reset();
    const message = createMessage({ pipeline: "c", client: "c", function: "server.echo", id: "c:1" });
    traceHop("send", message, "server");
    assert.equal(message.trace, NOT_SAMPLED);
    for (const hop of ["route", "publish", "receive"] as const) {
      traceHop(hop, message, "server");
      assert.equal(message.trace, NOT_SAMPLED);
    }
    for (const name of ["msgpack", "palm-protobuf"] as const) {
      const codec = getCodec(name);
      const [frame] = codec.encode([message]);
      assert.equal(codec.decode(frame!)[0]?.trace, NOT_SAMPLED, name);
    }
    assert.equal(exporter.getFinishedSpans().length, 0);
  });

  it("makes no span anywhere in a cluster, while a sampled call makes all five in one trace", async () => {
    const cluster = await startMaster({
      workers: 1,
      master: { tracing: true },
      worker: { tracing: true },
      client: { tracing: true },
    });
    try {
      sampleRoots = false;
      exporter.reset();
      const payloads = Array.from({ length: 50 }, (_, i) => Buffer.from(String(i)));
      let results = 0;
      for await (const _ of cluster.client.job("server.echo", payloads)) results++;
      assert.equal(results, 50);
      assert.equal(await cluster.client.eval("server.echo", Buffer.from("x")).then(String), "x");
      assert.deepEqual(exporter.getFinishedSpans(), [], "no span for a call not sampled");
      sampleRoots = true;
      assert.equal(await cluster.client.eval("server.echo", Buffer.from("y")).then(String), "y");
      const spans = exporter.getFinishedSpans();
      assert.deepEqual(
        spans.map((s) => s.name),
        [
          "send server.echo",
          "route server.echo",
          "execute server.echo",
          "publish server.echo",
          "receive server.echo",
        ],
      );
      assert.equal(new Set(spans.map((s) => s.spanContext().traceId)).size, 1);
      assert.equal(spans[0]?.attributes["palm.function"], "server.echo");
    } finally {
      await cluster.stop();
    }
  });
});

describe("palm's own head sampling (tracing: { sampleRatio, sampleRun })", () => {
  const call = (n: number) =>
    createMessage({ pipeline: "c", client: "c", function: "server.echo", id: `c:${n}` });

  it("asks the SDK only for the drawn share of the calls it starts, and marks the rest NOT_SAMPLED", () => {
    sampleRoots = true;
    exporter.reset();
    rootDecisions = 0;
    const calls = Array.from({ length: 4000 }, (_, n) => call(n));
    const sampler = new HeadSampler(0.25);
    for (const message of calls) traceHop("send", message, "server", sampler);
    const sampled = calls.filter((m) => m.trace !== NOT_SAMPLED);
    // 1,000 expected; a binomial's standard deviation here is 27, so the bounds are 7 of them.
    assert.ok(sampled.length > 810 && sampled.length < 1190, `${sampled.length} of 4000 sampled`);
    assert.equal(rootDecisions, sampled.length, "the SDK decides only for the drawn calls");
    assert.equal(exporter.getFinishedSpans().length, sampled.length);
    for (const message of sampled) assert.match(message.trace ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("with sampleRun, traces the same share in runs of that many calls in a row", () => {
    sampleRoots = true;
    exporter.reset();
    const sampler = checkTracingOption({ sampleRatio: 0.25, sampleRun: 4 });
    assert.ok(sampler instanceof HeadSampler);
    const calls = Array.from({ length: 8000 }, (_, n) => call(n));
    for (const message of calls) traceHop("send", message, "server", sampler);
    const traced = calls.map((m) => m.trace !== NOT_SAMPLED);
    const share = traced.filter(Boolean).length;
    // 2,000 expected; about 500 runs drawn, each of 4 calls: a standard deviation near 75 calls.
    assert.ok(share > 1450 && share < 2550, `${share} of 8000 traced`);
    // Every stretch of traced calls is whole runs (runs may follow one another), but the last one, which
    // the end of the calls may cut short.
    const stretches: number[] = [];
    let length = 0;
    for (const on of traced) {
      if (on) length++;
      else if (length > 0) {
        stretches.push(length);
        length = 0;
      }
    }
    assert.ok(stretches.length > 100, `${stretches.length} stretches`);
    for (const n of stretches) assert.equal(n % 4, 0, `a stretch of ${n} traced calls`);
    assert.equal(exporter.getFinishedSpans().length, share);
  });

  it("never overrides a caller's decision: a message naming a parent follows it at any ratio", () => {
    sampleRoots = false;
    exporter.reset();
    rootDecisions = 0;
    const parent = formatTraceparent({
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: 1,
    });
    const message = call(1);
    message.trace = parent;
    const never = new HeadSampler(0);
    traceHop("route", message, "server", never);
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 1);
    assert.equal(spans[0]?.spanContext().traceId, "0af7651916cd43dd8448eb211c80319c");
    assert.equal(rootDecisions, 0);
    // Ratio 0 starts no trace of its own, and asks the SDK nothing.
    const root = call(2);
    traceHop("route", root, "server", never);
    assert.equal(root.trace, NOT_SAMPLED);
    assert.equal(exporter.getFinishedSpans().length, 1);
    assert.equal(rootDecisions, 0);
  });

  it("traces a 1-in-10 share of a job through all five hops, each traced call whole", async () => {
    const cluster = await startMaster({
      workers: 1,
      master: { tracing: true },
      worker: { tracing: true },
      client: { tracing: { sampleRatio: 0.1 } },
    });
    try {
      sampleRoots = true;
      exporter.reset();
      rootDecisions = 0;
      const payloads = Array.from({ length: 600 }, (_, i) => Buffer.from(String(i)));
      const seen = new Set<string>();
      for await (const result of cluster.client.job("server.echo", payloads)) seen.add(String(result));
      assert.equal(seen.size, 600);
      const byTrace = new Map<string, string[]>();
      for (const span of exporter.getFinishedSpans()) {
        const id = span.spanContext().traceId;
        byTrace.set(id, [...(byTrace.get(id) ?? []), span.name.split(" ")[0] as string]);
      }
      // 60 expected (standard deviation 7.3): the share, not every call and not none.
      assert.ok(byTrace.size > 25 && byTrace.size < 95, `${byTrace.size} of 600 calls traced`);
      assert.equal(rootDecisions, byTrace.size);
      for (const hops of byTrace.values())
        assert.deepEqual(hops.sort(), ["execute", "publish", "receive", "route", "send"]);
    } finally {
      await cluster.stop();
    }
  });

  it("checks the option, naming what is wrong", async () => {
    assert.equal(checkTracingOption(undefined), undefined);
    assert.equal(checkTracingOption(false), undefined);
    assert.equal(checkTracingOption(true)?.ratio, 1);
    assert.equal(checkTracingOption({})?.ratio, 1);
    assert.deepEqual(
      [checkTracingOption({ sampleRatio: 0.01 })].map((s) => [s?.ratio, s?.run]),
      [[0.01, 1]],
    );
    assert.deepEqual(
      [checkTracingOption({ sampleRatio: 0.01, sampleRun: 16 })].map((s) => [s?.ratio, s?.run]),
      [[0.01, 16]],
    );
    assert.throws(
      () => checkTracingOption({ sampleRatio: 0.01, sampleRun: 0 }),
      /`tracing\.sampleRun` to be a whole number from 1 to 10000, got `0`/,
    );
    const [db] = await freeEndpoints(1);
    assert.throws(
      () => new Client({ serverName: "s", dbAddress: db!, tracing: { sampleRatio: 2 } }),
      /`tracing\.sampleRatio` to be a number from 0 to 1, got `2`/,
    );
    assert.throws(
      () => new Worker({ name: "w", dbAddress: db!, tracing: { sampleRate: 0.1 } as never }),
      /Unknown option `sampleRate` for `tracing`; did you mean `sampleRatio`\?/,
    );
    assert.throws(
      () => checkTracingOption("yes"),
      /`tracing` to be true, false or \{ sampleRatio, sampleRun \}/,
    );
    assert.throws(() => checkTracingOption({ sampleRatio: Number.NaN }), /`tracing\.sampleRatio`/);
  });
});

describe("a Server, which runs calls itself, with tracing", () => {
  it("makes one execute span per call, between the client's send and receive, in one trace", async () => {
    const [pullAddress, pubAddress, dbAddress] = await freeEndpoints(3);
    const server = new Server({
      name: "inproc",
      pullAddress: pullAddress!,
      pubAddress: pubAddress!,
      dbAddress: dbAddress!,
      logLevel: "silent",
      tracing: true,
    });
    await server.start();
    const client = new Client({
      serverName: "inproc",
      dbAddress: dbAddress!,
      logLevel: "silent",
      tracing: true,
    });
    try {
      await client.start();
      sampleRoots = true;
      exporter.reset();
      assert.equal(String(Buffer.from(await client.eval("inproc.echo", Buffer.from("z")))), "z");
      const spans = exporter.getFinishedSpans();
      assert.deepEqual(
        spans.map((s) => s.name),
        ["send inproc.echo", "execute inproc.echo", "receive inproc.echo"],
      );
      assert.equal(new Set(spans.map((s) => s.spanContext().traceId)).size, 1);
      assert.equal(spans[1]?.attributes["palm.peer"], "inproc");
    } finally {
      await client.stop();
      await server.stop();
    }
  });

  it("refuses a tracing option of the wrong shape, naming it", async () => {
    const [pullAddress, pubAddress, dbAddress] = await freeEndpoints(3);
    assert.throws(
      () =>
        new Server({
          name: "s",
          pullAddress: pullAddress!,
          pubAddress: pubAddress!,
          dbAddress: dbAddress!,
          tracing: "yes" as never,
        }),
      /`tracing` to be true, false or/,
    );
  });
});
