import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

const root = join(import.meta.dirname, "..");
const cli = join(root, "src", "cli.ts");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `palm <args>` from the sources; the bench itself ends every process it starts. */
function palm(args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", cli, ...args],
      { cwd: root, timeout: timeoutMs, killSignal: "SIGTERM", maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") return reject(error);
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** `value` at a dotted `path` of `report`. */
function at(report: unknown, path: string): unknown {
  return path
    .split(".")
    .reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], report);
}

function assertFinite(report: unknown, path: string, min: number, strictlyAbove: boolean): void {
  const value = at(report, path);
  assert.equal(typeof value, "number", `${path} is a number, got ${JSON.stringify(value)}`);
  assert.ok(Number.isFinite(value), `${path} is finite, got ${String(value)}`);
  const ok = strictlyAbove ? (value as number) > min : (value as number) >= min;
  assert.ok(ok, `${path} is ${strictlyAbove ? ">" : "≥"} ${min}, got ${String(value)}`);
}

describe("palm bench", () => {
  it("reports every figure as JSON, with nothing lost or duplicated by palm, and the round-trip distribution", async () => {
    const out = mkdtempSync(join(tmpdir(), "palm-bench-"));
    const run = await palm(
      [
        "bench",
        "--messages",
        "2000",
        "--runs",
        "2",
        "--round-trips",
        "300",
        "--json",
        "--latency",
        "--out",
        out,
      ],
      180_000,
    );
    assert.equal(run.code, 0, `exit code 0, stderr:\n${run.stderr}`);
    const report: unknown = JSON.parse(run.stdout);

    for (const path of [
      "palm.msgPerSec",
      "palm.evalP50Us",
      "palm.evalP99Us",
      "palm.peakRssMb.master",
      "palm.peakRssMb.worker",
      "palm.peakRssMb.client",
      "baseline.msgPerSec",
      "baseline.evalP50Us",
      "baseline.evalP99Us",
      "moleculer.msgPerSec",
      "moleculer.evalP50Us",
      "moleculer.evalP99Us",
      "moleculer.peakRssMb.master",
      "ratio.throughput",
      "ratio.evalP50",
      "ratio.evalP99",
      "ratio.moleculer.throughput",
      "ratio.moleculer.evalP50",
      "ratio.moleculer.evalP99",
      "inProcessMsgPerSec",
      "inProcessByBatch.1",
      "inProcessCpuByBatch.1",
      "crashToReadyMs",
      "startToReadyMs",
      "palm.masterReadyRssMb",
      "palm.masterHeapMb.young",
      "palm.masterHeapMb.old",
      "xstate.eventUs",
      "xstate.eventsPerMessage",
    ]) {
      assertFinite(report, path, 0, true);
    }
    assertFinite(report, "baseline.lost", 0, false);
    assert.equal(at(report, "palm.lost"), 0, "palm lost nothing");
    assert.equal(at(report, "palm.duplicated"), 0, "palm duplicated nothing");
    assert.ok((at(report, "palm.evalP50Us") as number) <= (at(report, "palm.evalP99Us") as number));
    const machine = at(report, "machine");
    assert.equal(typeof machine, "object");
    assert.ok(machine !== null && (at(report, "machine.cpus") as number) >= 1);
    assert.equal(at(report, "moleculer.lost"), 0, "Moleculer lost nothing");

    const targets = at(report, "targets") as { name: string; value: number; met: boolean }[];
    assert.equal(targets.length, 8);
    for (const target of targets) assert.equal(typeof target.met, "boolean", target.name);
    // Every target the bench can explain says why when it is not met.
    const explained = /^(eval p50|eval p99|in-process routing|master peak RSS)/;
    for (const target of targets.filter((t) => !t.met && explained.test(t.name))) {
      assert.equal(typeof (target as { why?: unknown }).why, "string", `${target.name} says why`);
    }

    // --latency: percentiles in the report, every round trip in latency.json, a chart in latency.svg.
    const latency = at(report, "latency") as { name: string; samples: number }[];
    assert.deepEqual(
      latency.map((l) => [l.name, l.samples]),
      [
        ["palm", 600],
        ["baseline", 600],
        ["Moleculer", 600],
      ],
    );
    const written = JSON.parse(readFileSync(join(out, "latency.json"), "utf8")) as {
      series: { name: string; roundTripsUs: number[] }[];
    };
    assert.deepEqual(
      written.series.map((s) => s.roundTripsUs.length),
      [600, 600, 600],
    );
    const svg = readFileSync(join(out, "latency.svg"), "utf8");
    assert.equal(svg.match(/<polyline /g)?.length, 3);
    assert.match(run.stderr, /palm: p50 [\d,]+, p90 [\d,]+, p99 [\d,]+, p99\.9 [\d,]+ µs \(600 round trips/);
    rmSync(out, { recursive: true, force: true });
  });

  it("prints its usage on --help and refuses an unknown option with exit code 2", async () => {
    const help = await palm(["bench", "--help"], 30_000);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: palm bench/);
    assert.match(help.stdout, /--messages N/);
    const bad = await palm(["bench", "--baseline", "fast"], 30_000);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--baseline to be plain, batched or both, got "fast"/);
  });
});
