import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { Client } from "../actors/client.js";
import { Master } from "../actors/servers/master.js";
import { Worker } from "../actors/worker.js";
import { freeEndpoints, freePorts } from "../src/testing/ports.js";
import { startMaster } from "../src/testing/startMaster.js";
import { type FixtureProcess, startFixture } from "./fixtures/jsonProcess.js";
import { prometheusMissing, promtoolCheck, startPrometheus } from "./support/prometheus.js";
import { sample, scrape } from "./support/scrape.js";

describe("metrics option", () => {
  it("rejects bad metrics options naming the option", async () => {
    const [pullAddress, pubAddress, workerPullAddress, workerPushAddress, dbAddress] = await freeEndpoints(5);
    const bad: Array<[unknown, RegExp]> = [
      [8080, /metrics/],
      [{ port: -1 }, /metrics\.port/],
      [{ port: 9090, host: "" }, /metrics\.host/],
      [{ port: 9090, path: "/x" }, /metrics\.path/],
    ];
    for (const [metrics, pattern] of bad) {
      assert.throws(() => new Worker({ name: "w", dbAddress: dbAddress!, metrics } as never), pattern);
      assert.throws(
        () =>
          new Master({
            name: "m",
            pullAddress,
            pubAddress,
            workerPullAddress,
            workerPushAddress,
            dbAddress,
            metrics,
          } as never),
        pattern,
      );
    }
  });

  it("serves a master's and a worker's figures of a job, exact, and closes the listener on stop", async () => {
    const cluster = await startMaster({
      workers: 1,
      master: { metrics: { port: 0 } },
      worker: { metrics: { port: 0 } },
      client: { metrics: { port: 0 } },
    });
    const masterUrl = cluster.master.template.metrics?.url;
    const workerUrl = cluster.workers[0]?.template.metrics?.url;
    try {
      assert.ok(masterUrl && workerUrl);
      const total = 150;
      const payloads = Array.from({ length: total }, (_, i) => Buffer.from(String(i)));
      let results = 0;
      for await (const _ of cluster.client.job("server.echo", payloads)) results++;
      assert.equal(results, total);
      const master = await scrape(masterUrl);
      const labels = { server: "server", function: "echo" };
      assert.equal(sample(master, "palm_delivery_call_duration_seconds_count", labels), total);
      assert.equal(
        sample(master, "palm_delivery_call_duration_seconds_bucket", { ...labels, le: "+Inf" }),
        total,
      );
      assert.equal(sample(master, "palm_delivery_in_flight_messages"), 0);
      assert.equal(sample(master, "palm_delivery_suspect_messages"), 0);
      assert.equal(sample(master, "palm_delivery_queued_clients"), 0);
      assert.equal(sample(master, "palm_delivery_duplicates_dropped_total"), 0);
      assert.equal(sample(master, "palm_delivery_workers", { state: "alive" }), 1);
      assert.equal(sample(master, "palm_part_messages_received_total", { part: "Pull" }), total);
      assert.equal(sample(master, "palm_part_up", { part: "Pull" }), 1);
      assert.equal(sample(master, "palm_server_escalations_total", { reason: "intensity" }), 0);
      assert.ok((sample(master, "process_resident_memory_bytes") ?? 0) > 0);
      const worker = await scrape(workerUrl);
      assert.equal(sample(worker, "palm_worker_call_duration_seconds_count", { function: "echo" }), total);
      assert.equal(sample(worker, "palm_worker_calls_in_flight"), 0);
      if (!prometheusMissing()) {
        promtoolCheck(master);
        promtoolCheck(worker);
      }
      // The operations guide and the Grafana dashboard name only metrics palm serves.
      const client = await scrape(cluster.client.metrics!.url!);
      assert.equal(sample(client, "palm_client_calls_sent_total"), total);
      assert.equal(sample(client, "palm_client_call_duration_seconds_count", labels), total);
      if (!prometheusMissing()) promtoolCheck(client);
      const served = new Set(
        [...`${master}\n${worker}\n${client}`.matchAll(/^# TYPE (\w+)/gm)].map((m) => m[1]),
      );
      for (const doc of ["docs/operations.md", "docs/grafana-dashboard.json"]) {
        const text = readFileSync(new URL(`../${doc}`, import.meta.url), "utf8");
        for (const [name] of text.matchAll(/\b(palm|process)_[a-z_]+[a-z]/g)) {
          const base = name.replace(/_(bucket|sum|count)$/, "");
          assert.ok(
            served.has(base) || name === "process_",
            `${doc} names ${name}, which palm does not serve`,
          );
        }
      }
    } finally {
      await cluster.stop();
    }
    await assert.rejects(fetch(masterUrl!), "the master's metrics listener is closed");
    await assert.rejects(fetch(workerUrl!), "the worker's metrics listener is closed");
  });

  it("counts a part's restarts with their reason, and keeps its message total across the restart", async () => {
    const cluster = await startMaster({ workers: 1, master: { metrics: { port: 0 } } });
    try {
      const url = cluster.master.template.metrics!.url!;
      const first = [Buffer.from("a"), Buffer.from("b")];
      for await (const _ of cluster.client.job("server.echo", first));
      assert.equal(sample(await scrape(url), "palm_part_messages_received_total", { part: "Pull" }), 2);
      const restarted = new Promise<void>((resolve) => cluster.master.on("part.restarted", () => resolve()));
      assert.ok(cluster.master.crash("Pull"));
      await restarted;
      for await (const _ of cluster.client.job("server.echo", [Buffer.from("c")]));
      const text = await scrape(url);
      assert.equal(
        sample(text, "palm_part_restarts_total", { part: "Pull", reason: "PALM_ERR_PART_CRASHED" }),
        1,
      );
      assert.equal(
        sample(text, "palm_part_failures_total", { part: "Pull", reason: "PALM_ERR_PART_CRASHED" }),
        1,
      );
      assert.equal(sample(text, "palm_part_messages_received_total", { part: "Pull" }), 3);
    } finally {
      await cluster.stop();
    }
  });
});

describe("a real Prometheus scraping a master and two workers in their own processes", {
  skip: prometheusMissing(),
}, () => {
  const processes: FixtureProcess[] = [];
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
    await Promise.all(processes.map((p) => p.kill()));
  });

  it("reads a job's figures back through the query API", async () => {
    const [pullAddress, pubAddress, workerPullAddress, workerPushAddress, dbAddress] = await freeEndpoints(5);
    const ports = await freePorts(4);
    const addresses = { pullAddress, pubAddress, workerPullAddress, workerPushAddress, dbAddress };
    const master = startFixture(
      "masterProcess.ts",
      { name: "server", ...addresses, metrics: { port: ports[0] } },
      { name: "master" },
    );
    processes.push(master);
    await master.waitFor((l) => l.event === "ready");
    const workers = ["w1", "w2"].map((name, i) =>
      startFixture("workerProcess.ts", { name, dbAddress, metrics: { port: ports[i + 1] } }, { name }),
    );
    processes.push(...workers);
    await Promise.all(workers.map((w) => w.waitFor((l) => l.event === "ready")));
    await master.waitFor((l) => l.event === "worker.joined" && (l.worker as { name: string }).name === "w2");
    await master.waitFor((l) => l.event === "worker.joined" && (l.worker as { name: string }).name === "w1");
    const prometheus = await startPrometheus(ports.map((port) => `127.0.0.1:${port}`));
    closers.push(() => prometheus.stop());
    const client = new Client({
      serverName: "server",
      dbAddress: dbAddress!,
      logLevel: "silent",
      metrics: { port: ports[3]! },
    });
    await client.start();
    closers.push(() => client.stop());
    const total = 300;
    let results = 0;
    const payloads = Array.from({ length: total }, (_, i) => Buffer.from(String(i)));
    for await (const _ of client.job("server.echo", payloads)) results++;
    assert.equal(results, total);
    // Event-driven on Prometheus' side: each query answers with what its latest scrape read.
    const settled = async (expression: string, expected: number) => {
      const deadline = Date.now() + 60_000;
      let value: number | undefined;
      while (Date.now() < deadline) {
        value = await prometheus.query(expression);
        if (value === expected) return value;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.fail(`${expression} is ${value}, expected ${expected}`);
    };
    await settled('sum(palm_worker_call_duration_seconds_count{function="echo"})', total);
    await settled('palm_delivery_call_duration_seconds_count{function="echo"}', total);
    await settled('palm_part_messages_received_total{part="Pull"}', total);
    await settled("palm_delivery_in_flight_messages", 0);
    await settled('palm_delivery_workers{state="alive"}', 2);
    await settled('palm_client_calls_sent_total{server="server"}', total);
    await settled('palm_client_call_duration_seconds_count{function="echo"}', total);
    await settled('count(up{job="palm"} == 1)', 4);
    for (const port of ports) promtoolCheck(await scrape(`http://127.0.0.1:${port}/metrics`));
  });
});
