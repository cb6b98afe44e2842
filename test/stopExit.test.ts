import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Run {
  code: number | null;
  lines: string[];
  /** From "stopping" (the first stop called) to the process's exit. */
  exitMs: number;
  /** From "stopped" (every stop resolved) to the process's exit: what held the process after stop. */
  lingerMs: number;
}

/** Runs the fixture with the stop order given, timing its exit from its "stopping" and "stopped" lines. */
async function runAndStop(order: string): Promise<Run> {
  const child = spawn(process.execPath, ["--import", "tsx", "test/fixtures/stopExitProcess.ts", order], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  let stoppingAt = Number.NaN;
  let stoppedAt = Number.NaN;
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    if (Number.isNaN(stoppingAt) && stdout.includes("stopping\n")) stoppingAt = Date.now();
    if (Number.isNaN(stoppedAt) && stdout.includes("stopped\n")) stoppedAt = Date.now();
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  const exitAt = Date.now();
  const lines = stdout.split("\n").filter(Boolean);
  return { code, lines, exitMs: exitAt - stoppingAt, lingerMs: exitAt - stoppedAt };
}

describe("a process exits on its own once its servers stop", () => {
  // The client first (as a script ends), or the master first: a worker's farewell to a master already
  // gone must not hold the process for its sockets' linger.
  for (const [order, label] of [
    ["cwm", "client, worker, master"],
    ["mwc", "master, worker, client"],
  ] as const) {
    it(`Master + Worker + Client stopped as ${label}`, { timeout: 90_000 }, async () => {
      const { code, lines, exitMs, lingerMs } = await runAndStop(order);
      assert.deepEqual({ code, lines }, { code: 0, lines: ["results 200", "stopping", "stopped"] });
      // Once every stop resolved the process exits at once (a socket's linger held it 2 s): a bound far
      // above the ~0.3 s it takes. The stops themselves wait for the worker's heartbeat thread to end.
      assert.ok(lingerMs < 1500, `exited ${lingerMs} ms after every stop had resolved`);
      assert.ok(exitMs < 5000, `exited ${exitMs} ms after the first stop was called`);
    });
  }
});
