import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { freeEndpoints } from "../src/testing/ports.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Runs the fixture, sends `signal` once it is ready, and resolves with its exit and its stdout lines. */
async function stopWith(
  signal: NodeJS.Signals,
): Promise<{ code: number | null; signal: string | null; lines: string[] }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "test/fixtures/signalServer.ts", ...(await freeEndpoints(2))],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    if (stdout.includes("ready\n") && !child.killed) child.kill(signal);
  });
  const [code, exitSignal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.once("close", (c, s) => resolve([c, s])),
  );
  return { code, signal: exitSignal, lines: stdout.split("\n").filter(Boolean) };
}

describe("shutdownOnSignal", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`stops each server in order on ${signal} and exits 0`, { timeout: 60_000 }, async () => {
      const result = await stopWith(signal);
      assert.deepEqual(result, { code: 0, signal: null, lines: ["ready", "stopped s1", "stopped s2"] });
    });
  }
});
