import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The Python the peers run on: Debian's, with the packages python3-zmq and python3-protobuf. */
export const PYTHON = "/usr/bin/python3";

/** The directory holding the Python peers (`pylm_*.py`). */
export const PYTHON_DIR = dirname(fileURLToPath(import.meta.url));

let checked: string | undefined;

/**
 * Throws a clear error when `/usr/bin/python3` or its `zmq` and `google.protobuf` modules are missing.
 * Interop tests call this first: they fail (never skip) without the Python side.
 */
export function requirePython(): void {
  if (checked === "ok") return;
  if (checked === undefined) {
    const probe = spawnSync(PYTHON, ["-c", "import zmq, google.protobuf"], { encoding: "utf8" });
    if (probe.error) checked = `${PYTHON} cannot run (${probe.error.message})`;
    else if (probe.status !== 0) checked = `${PYTHON} lacks zmq or google.protobuf: ${probe.stderr.trim()}`;
    else checked = "ok";
  }
  if (checked !== "ok") {
    throw new Error(
      `The pylm interop tests need Debian's python3 with the packages python3-zmq and python3-protobuf ` +
        `(apt-get install python3-zmq python3-protobuf): ${checked}`,
    );
  }
}

/** A Python peer started as a child process; its stdout is collected line by line. */
export class PythonPeer {
  readonly process: ChildProcess;
  readonly lines: string[] = [];
  stderr = "";
  readonly exited: Promise<number | null>;
  readonly #waiters: Array<() => void> = [];

  constructor(script: string, args: string[]) {
    requirePython();
    this.process = spawn(PYTHON, [join(PYTHON_DIR, script), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1" },
    });
    let pending = "";
    this.process.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      pending += chunk;
      const parts = pending.split("\n");
      pending = parts.pop()!;
      this.lines.push(...parts);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.process.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.process.once("exit", (code) => {
        for (const wake of this.#waiters.splice(0)) wake();
        resolve(code);
      });
    });
  }

  /** Resolves once a stdout line satisfies `match`; rejects when the process exits first or after `timeoutMs`. */
  async waitForLine(match: (line: string) => boolean, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find(match);
      if (line !== undefined) return line;
      if (this.process.exitCode !== null || this.process.signalCode !== null) {
        throw new Error(
          `python peer exited (${this.process.exitCode}) before the line; stderr:\n${this.stderr}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`python peer: no such line within ${timeoutMs} ms; stderr:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves once the peer printed `READY`. */
  ready(timeoutMs?: number): Promise<string> {
    return this.waitForLine((line) => line === "READY", timeoutMs);
  }

  /** Waits for the exit code (e.g. of a client run to completion). */
  async exitCode(timeoutMs = 60_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new Error(`python peer still running after ${timeoutMs} ms; stderr:\n${this.stderr}`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the peer by its PID (SIGTERM, then SIGKILL after 2 s) and waits for it to exit. */
  async kill(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill("SIGTERM");
    const timer = setTimeout(() => this.process.kill("SIGKILL"), 2000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Runs a Python script to completion with `input` on stdin and returns its stdout (throws on failure). */
export function runPython(script: string, args: string[], input: string): string {
  requirePython();
  const result = spawnSync(PYTHON, [join(PYTHON_DIR, script), ...args], {
    input,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
  });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${script} failed (${result.status}):\n${result.stderr}`);
  return result.stdout;
}
