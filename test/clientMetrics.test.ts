import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Client } from "../actors/client.js";
import { isPalmError } from "../src/errors.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { startMaster } from "../src/testing/startMaster.js";
import { prometheusMissing, promtoolCheck } from "./support/prometheus.js";
import { sample, scrape } from "./support/scrape.js";

describe("client metrics", () => {
  it("rejects bad metrics options naming the option", async () => {
    const [dbAddress] = await freeEndpoints(1);
    const bad: Array<[unknown, RegExp]> = [
      [8080, /metrics/],
      [{ port: 70000 }, /metrics\.port/],
      [{ port: 0, host: "" }, /metrics\.host/],
      [{ port: 0, path: "/x" }, /metrics\.path/],
    ];
    for (const [metrics, pattern] of bad)
      assert.throws(() => new Client({ serverName: "s", dbAddress: dbAddress!, metrics } as never), pattern);
  });

  it("counts a client's calls, results, errors by code, timeouts and latency, exactly", async () => {
    let release: (() => void) | undefined;
    const hung = new Promise<void>((resolve) => {
      release = resolve;
    });
    const cluster = await startMaster({
      workers: 1,
      functions: {
        echo: (payload) => payload,
        fail: () => {
          throw new Error("refused");
        },
        slow: async (payload) => {
          await new Promise((resolve) => setTimeout(resolve, 60));
          return payload;
        },
        hang: async (payload) => {
          await hung;
          return payload;
        },
      },
      client: { metrics: { port: 0 } },
    });
    const impatient = new Client({
      serverName: "server",
      dbAddress: cluster.addresses.dbAddress,
      logLevel: "silent",
      timeoutMs: 300,
      metrics: { port: 0 },
    });
    try {
      await impatient.start();
      const total = 120;
      const payloads = Array.from({ length: total }, (_, i) => Buffer.from(String(i)));
      let results = 0;
      for await (const result of cluster.client.job("server.echo", payloads)) {
        assert.ok(!(result instanceof Error));
        results++;
      }
      assert.equal(results, total);
      for (let i = 0; i < 3; i++) {
        await assert.rejects(cluster.client.eval("server.fail", Buffer.from("x")), (error) =>
          isPalmError(error, "PALM_ERR_REMOTE"),
        );
      }
      // Calls that take 60 ms, as one job (one batch) and one eval: each timed from its own send to its
      // own result, however the client batches its readings of the clock.
      for await (const result of cluster.client.job("server.slow", [Buffer.from("a"), Buffer.from("b")])) {
        assert.ok(!(result instanceof Error));
      }
      await cluster.client.eval("server.slow", Buffer.from("c"));
      const url = cluster.client.metrics!.url!;
      const text = await scrape(url);
      const labels = { server: "server" };
      assert.equal(sample(text, "palm_client_calls_sent_total", labels), total + 6);
      assert.equal(sample(text, "palm_client_results_total", labels), total + 3);
      const slow = (le: string) =>
        sample(text, "palm_client_call_duration_seconds_bucket", { ...labels, function: "slow", le });
      assert.equal(slow("0.05"), 0, "none under 50 ms");
      assert.equal(slow("5"), 3, "all three under 5 s");
      assert.equal(sample(text, "palm_client_errors_total", { ...labels, code: "PALM_ERR_REMOTE" }), 3);
      assert.equal(sample(text, "palm_client_timeouts_total", labels), 0);
      assert.equal(sample(text, "palm_client_in_flight_messages", labels), 0);
      assert.equal(sample(text, "palm_client_unexpected_results_total", labels), 0);
      assert.equal(sample(text, "palm_client_call_duration_seconds_count", { function: "echo" }), total);
      assert.equal(
        sample(text, "palm_client_call_duration_seconds_bucket", { function: "echo", le: "+Inf" }),
        total,
      );
      assert.equal(sample(text, "palm_client_call_duration_seconds_count", { function: "fail" }), 3);
      assert.ok((sample(text, "process_resident_memory_bytes") ?? 0) > 0);
      assert.ok(!/[0-9a-f]{8}-[0-9a-f]{4}-/.test(text), "no client or message id in any label");
      if (!prometheusMissing()) promtoolCheck(text);

      await assert.rejects(impatient.eval("server.hang", Buffer.from("late")), (error) =>
        isPalmError(error, "PALM_ERR_TIMEOUT"),
      );
      const late = await scrape(impatient.metrics!.url!);
      assert.equal(sample(late, "palm_client_calls_sent_total", labels), 1);
      assert.equal(sample(late, "palm_client_timeouts_total", labels), 1);
      assert.equal(sample(late, "palm_client_results_total", labels), 0);
      assert.equal(sample(late, "palm_client_in_flight_messages", labels), 0);
      assert.equal(sample(late, "palm_client_call_duration_seconds_count", { function: "hang" }), undefined);
      // A job that times out counts each of its calls without a result once, and none stays in flight.
      const stalled = impatient.job("server.hang", [Buffer.from("a"), Buffer.from("b")]);
      await assert.rejects(
        (async () => {
          for await (const _ of stalled);
        })(),
        (error) => isPalmError(error, "PALM_ERR_TIMEOUT"),
      );
      const after = await scrape(impatient.metrics!.url!);
      assert.equal(sample(after, "palm_client_calls_sent_total", labels), 3);
      assert.equal(sample(after, "palm_client_timeouts_total", labels), 3);
      assert.equal(sample(after, "palm_client_in_flight_messages", labels), 0);
    } finally {
      release?.();
      await impatient.stop();
      await cluster.stop();
    }
    await assert.rejects(fetch(cluster.client.metrics!.url!), "the client's metrics listener is closed");
  });
});
