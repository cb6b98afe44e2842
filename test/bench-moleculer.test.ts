import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatLatency, latencySvg, summarizeLatency } from "../bench/latency.js";
import { runMoleculer } from "../bench/moleculer.js";
import { checkTargets } from "../bench/report.js";
import { explainTargets, type WhyInput } from "../bench/why.js";

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

describe("the Moleculer row of palm bench", () => {
  it("measures a run over the TCP transporter, answers every call once and leaves no process behind", async () => {
    const started: { role: string; pid: number }[] = [];
    const result = await runMoleculer({
      messages: 1000,
      workers: 2,
      payload: 64,
      roundTrips: 100,
      window: 50,
      onSpawn: (p) => started.push(p),
    });
    assert.equal(result.lost, 0);
    assert.equal(result.duplicated, 0);
    assert.equal(result.received, 1000);
    assert.ok(result.msgPerSec > 0);
    assert.equal(result.roundTripsUs.length, 100);
    assert.ok(result.evalP50Us > 0 && result.evalP50Us <= result.evalP99Us);
    for (const rss of Object.values(result.peakRssMb)) assert.ok(Number.isFinite(rss) && rss > 0);
    assert.deepEqual(started.map((p) => p.role).sort(), ["client", "master", "worker 1", "worker 2"]);
    assert.deepEqual(
      started.filter((p) => isRunning(p.pid)),
      [],
      "every process the run started has exited",
    );
  });

  it("rejects options it cannot run with, naming the option", async () => {
    await assert.rejects(
      runMoleculer({ messages: 10, workers: 0, payload: 64 }),
      /`workers` to be an integer ≥ 1, got `0`/,
    );
  });
});

describe("the round-trip distribution", () => {
  const series = [
    { name: "palm", roundTripsUs: Array.from({ length: 1000 }, (_, i) => 300 + i) },
    { name: "baseline", roundTripsUs: Array.from({ length: 1000 }, (_, i) => 200 + i / 2) },
  ];

  it("reports p50, p90, p99 and p99.9 of each system by nearest rank", () => {
    const [palm] = summarizeLatency(series);
    assert.deepEqual(palm, {
      name: "palm",
      samples: 1000,
      minUs: 300,
      maxUs: 1299,
      percentilesUs: { p50: 799, p90: 1199, p99: 1289, "p99.9": 1298 },
    });
  });

  it("prints a histogram whose bins hold every round trip, and the percentiles", () => {
    const text = formatLatency([series[0]!]);
    const rows = text.split("\n").filter((line) => /^\s*[\d,]+(–[\d,]+|\+) µs/.test(line));
    assert.equal(rows.length, 16);
    const total = rows.reduce((sum, row) => sum + Number(/([\d.]+)%/.exec(row)?.[1] ?? 0), 0);
    assert.ok(Math.abs(total - 100) < 3, `the bins add up to 100%, got ${total}`);
    assert.match(text, /palm: p50 799, p90 1,199, p99 1,289, p99\.9 1,298 µs \(1,000 round trips/);
  });

  it("draws an SVG chart with one line and four marked percentiles per system", () => {
    const svg = latencySvg(series, "round trips", "a <test> run");
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal(svg.match(/<polyline /g)?.length, 2);
    assert.equal(svg.match(/<circle /g)?.length, 8);
    assert.match(svg, /a &lt;test&gt; run/);
    assert.match(svg, /palm p99\.9: 1,298 µs/);
  });
});

describe("the bench's targets", () => {
  it("checks each target against its bound and says which are not met", () => {
    const side = { msgPerSec: 100, evalP50Us: 500, evalP99Us: 1000, lost: 0, duplicated: 0 };
    const targets = checkTargets({
      palm: { ...side, msgPerSec: 250, evalP50Us: 550, evalP99Us: 3000, peakRssMb: { master: 140 } },
      baseline: side,
      moleculer: { ...side, evalP50Us: 600 },
      inProcessByBatch: { "1": 150_000 },
      crashToReadyMs: 3,
      settings: { messages: 100_000 },
    } as unknown as Parameters<typeof checkTargets>[0]);
    assert.deepEqual(
      targets.map((t) => [t.name, t.met]),
      [
        ["eval p50 ≤ 1.2× the baseline's", true],
        ["eval p99 ≤ 2× the baseline's", false],
        ["eval p50 below Moleculer's", true],
        ["throughput ≥ 2× the baseline's", true],
        ["lost + duplicated", true],
        ["in-process routing, one message per event", false],
        ["master peak RSS (100,000 messages)", true],
        ["crash → ready", true],
      ],
    );
  });
});

describe("why a target is not met", () => {
  const side = { msgPerSec: 100, evalP50Us: 500, evalP99Us: 1000, lost: 0, duplicated: 0 };
  const heap = { young: 32, old: 40, code: 5, total: 80 };
  const input = {
    palm: {
      ...side,
      msgPerSec: 250,
      evalP50Us: 900,
      evalP99Us: 2700,
      peakRssMb: { master: 180 },
      masterReadyRssMb: 70,
      masterHeapMb: heap,
    },
    baseline: side,
    moleculer: { ...side, evalP50Us: 300 },
    inProcessByBatch: { "1": 60_000 },
    xstate: { eventUs: 2, eventsPerMessage: 3.25 },
    crashToReadyMs: 3,
    settings: { messages: 100_000 },
  };
  const explain = (extra: Partial<Record<keyof WhyInput, unknown>> = {}) => {
    const report = { ...input, ...extra } as unknown as WhyInput & Parameters<typeof checkTargets>[0];
    return Object.fromEntries(explainTargets(checkTargets(report), report).map((t) => [t.name, t.why]));
  };

  it("tells each unmet target's reason with the run's figures, and nothing for a met one", () => {
    const why = explain();
    assert.equal(why["throughput ≥ 2× the baseline's"], undefined);
    assert.equal(why["crash → ready"], undefined);
    assert.match(
      why["eval p50 ≤ 1.2× the baseline's"]!,
      /takes 400 µs more than the baseline's \(900 against 500 µs\)/,
    );
    assert.match(why["eval p50 ≤ 1.2× the baseline's"]!, /--hops DIR/);
    assert.match(
      why["eval p99 ≤ 2× the baseline's"]!,
      /3\.0× its p50 .* the baseline's 2\.0×.*longer than the baseline's/,
    );
    assert.match(
      why["eval p50 below Moleculer's"]!,
      /hand-written zeromq\.js chain's p50 \(500 µs\) is above Moleculer's \(300 µs\)/,
    );
    assert.match(
      why["in-process routing, one message per event"]!,
      /3\.3 xstate events .* 2\.0 µs .* 6\.5 µs of every message is xstate's own .* at most 153,846 msg\/s/,
    );
    assert.match(
      why["master peak RSS (100,000 messages)"]!,
      /was 70 MB once started.* young generation had 32 MB and its old generation 40 MB.*--small-heap/,
    );
  });

  it("uses the hops and the small-heap run when the bench measured them", () => {
    const legs = (master: number, worker: number) => ({
      roundTrips: 100,
      roundTrip: { p50: 0, p90: 0 },
      legs: {
        "master: in → out to a worker": { p50: master, p90: 0 },
        "worker: in → out": { p50: worker, p90: 0 },
        "master: in → out to the client": { p50: master, p90: 0 },
      },
    });
    const why = explain({
      hops: { palm: legs(100, 60), baseline: legs(13, 10) },
      palmSmallHeap: { ...input.palm, msgPerSec: 225, peakRssMb: { master: 120 } },
    });
    assert.match(
      why["eval p50 ≤ 1.2× the baseline's"]!,
      /master took 200 µs and its worker 60 µs where the baseline's took 26 and 10 µs: 224 µs of the gap/,
    );
    assert.match(
      why["master peak RSS (100,000 messages)"]!,
      /peaked at 120 MB, within the bound, at 225 msg\/s \(90\.0 % of plain palm's\)/,
    );
  });
});
