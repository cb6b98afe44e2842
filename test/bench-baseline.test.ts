import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BaselineResult, runBaseline } from "../bench/baseline.js";
import type { BaselineMode } from "../bench/baseline-config.js";
import { median, medianRatioInterval, percentile } from "../bench/stats.js";
import { seededRandom } from "../src/testing/seededRandom.js";

const MESSAGES = 2000;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM would mean "exists, not ours"; only ESRCH means gone.
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

function assertFiniteNumbers(result: BaselineResult): void {
  const { peakRssMb, roundTripsUs: _roundTrips, ...scalars } = result;
  for (const [name, value] of Object.entries({ ...scalars, ...prefixed("peakRssMb", peakRssMb) })) {
    assert.equal(typeof value, "number", `${name} is a number`);
    assert.ok(Number.isFinite(value), `${name} is finite, got ${String(value)}`);
  }
}

function prefixed(prefix: string, values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}.${k}`, v]));
}

describe("the hand-written zeromq.js baseline", () => {
  for (const mode of ["plain", "batched"] satisfies BaselineMode[]) {
    it(`measures a ${mode} run and leaves no process behind`, async () => {
      const started: { role: string; pid: number }[] = [];
      const result = await runBaseline({
        messages: MESSAGES,
        workers: 2,
        payload: 64,
        mode,
        roundTrips: 200,
        onSpawn: (p) => started.push(p),
      });

      assertFiniteNumbers(result);
      assert.ok(result.msgPerSec > 0, `msgPerSec > 0, got ${result.msgPerSec}`);
      const distinct = result.received - result.duplicated;
      assert.equal(result.lost + distinct, MESSAGES);
      assert.ok(result.duplicated >= 0 && result.lost >= 0);
      assert.ok(result.evalP50Us <= result.evalP99Us);
      assert.equal(result.roundTripsUs.length, 200, "every measured round trip is returned");
      assert.deepEqual(
        result.roundTripsUs,
        [...result.roundTripsUs].sort((a, b) => a - b),
        "round trips ascending",
      );

      assert.deepEqual(started.map((p) => p.role).sort(), ["client", "master", "worker 1", "worker 2"]);
      const alive = started.filter((p) => isRunning(p.pid));
      assert.deepEqual(alive, [], "every process the run started has exited");
    });
  }

  it("rejects naming the process that died, and stops the others", async () => {
    const started: { role: string; pid: number }[] = [];
    await assert.rejects(
      runBaseline({
        messages: MESSAGES,
        workers: 2,
        payload: 64,
        mode: "plain",
        roundTrips: 10,
        onSpawn: (p) => {
          started.push(p);
          if (p.role === "worker 2") process.kill(p.pid, "SIGKILL");
        },
      }),
      /Bench process "baseline worker 2" \(pid \d+\) exited before the run was over \(signal SIGKILL\)/,
    );
    assert.equal(started.length, 4);
    assert.deepEqual(
      started.filter((p) => isRunning(p.pid)),
      [],
    );
  });

  it("rejects options it cannot run with, naming the option", async () => {
    await assert.rejects(
      runBaseline({ messages: 10, workers: 0, payload: 64, mode: "plain" }),
      /`workers` to be an integer ≥ 1, got `0`/,
    );
    await assert.rejects(
      runBaseline({ messages: 10, workers: 1, payload: 64, mode: "fast" as BaselineMode }),
      /`mode` to be "plain" or "batched"/,
    );
  });
});

describe("bench statistics", () => {
  it("takes nearest-rank percentiles of sorted values", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(sorted, 50), 50);
    assert.equal(percentile(sorted, 99), 99);
    assert.equal(percentile(sorted, 100), 100);
    assert.equal(percentile(sorted, 0), 1);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
    assert.throws(() => percentile(sorted, 101), RangeError);
  });

  it("takes the median of unsorted values without changing them", () => {
    const values = [5, 1, 4, 2];
    assert.equal(median(values), 3);
    assert.deepEqual(values, [5, 1, 4, 2]);
    assert.equal(median([3, 1, 2]), 2);
    assert.ok(Number.isNaN(median([])));
  });

  it("bounds a ratio of medians by bootstrap: the same runs, the same interval; more runs, a narrower one", () => {
    assert.deepEqual(
      medianRatioInterval([10, 10, 10], [11, 11, 11]),
      [11 / 10 - 1, 11 / 10 - 1],
      "no spread",
    );
    assert.ok(medianRatioInterval([], [1]).every(Number.isNaN));
    // Runs of 100 ± 5 %, and of 102 ± 5 % (a 2 % cost), drawn from a seeded generator.
    const random = seededRandom(7);
    const runs = (centre: number, n: number) =>
      Array.from({ length: n }, () => centre * (0.95 + random() * 0.1));
    const [plainFew, costlyFew] = [runs(100, 6), runs(102, 6)];
    const few = medianRatioInterval(plainFew, costlyFew);
    const many = medianRatioInterval(runs(100, 120), runs(102, 120));
    assert.deepEqual(medianRatioInterval(plainFew, costlyFew), few, "its own draws are seeded");
    assert.ok(few[0] < few[1] && many[0] < many[1]);
    assert.ok(many[0] > 0 && many[1] < 0.04, `120 runs each pin a 2 % cost between 0 and 4 %: ${many}`);
    assert.ok(many[1] - many[0] < (few[1] - few[0]) / 2, `narrower: ${many} against ${few}`);
  });
});
