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
import { getCodec } from "../src/codec/index.js";
import { createMessage } from "../src/message.js";
import { startMaster } from "../src/testing/startMaster.js";
import { NOT_SAMPLED, traceHop } from "../src/tracing/hops.js";

// One provider for this process: a root sampler the test switches, servers and workers follow the call.
let sampleRoots = false;
const root: Sampler = {
  shouldSample: (_context: Context) => ({
    decision: sampleRoots ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD,
  }),
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
