import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { BenchReport } from "./bench-child.js";

const STDERR_TAIL_BYTES = 4096;

/** Whether this module runs from TypeScript sources (through tsx) rather than from the build. */
const FROM_SOURCES = import.meta.url.endsWith(".ts");

/** The tsx loader, resolved from here so the child finds it whatever its working directory. */
function tsxLoader(): string {
  try {
    return import.meta.resolve("tsx");
  } catch {
    return "tsx";
  }
}

/**
 * Extra `node` arguments for every bench process, space-separated (e.g. `--cpu-prof --cpu-prof-dir=prof`,
 * which `NODE_OPTIONS` does not allow); `palm bench --cpu-prof <dir>` sets it.
 */
export const BENCH_NODE_ARGS_ENV = "PALM_BENCH_NODE_ARGS";

/**
 * The `node` arguments that run the bench entry point `name` (e.g. `baseline-master`) next to this file,
 * with `nodeArgs` for this process only (e.g. a V8 heap flag).
 */
export function benchEntryArgs(name: string, nodeArgs: readonly string[] = []): string[] {
  const file = fileURLToPath(new URL(`./${name}${FROM_SOURCES ? ".ts" : ".js"}`, import.meta.url));
  const fromEnv = (process.env[BENCH_NODE_ARGS_ENV] ?? "").split(" ").filter((arg) => arg.length > 0);
  const extra = [...fromEnv, ...nodeArgs];
  // tsx first, so that an extra `--import` of a bench module (the hop timer) loads from sources too.
  return FROM_SOURCES ? ["--import", tsxLoader(), ...extra, file] : [...extra, file];
}

/** The `node` arguments that load the hop timer (`palm bench --hops`) into a bench process. */
export function hopTimerArgs(): string[] {
  return ["--import", new URL(`./hop-timer${FROM_SOURCES ? ".ts" : ".js"}`, import.meta.url).href];
}

/**
 * One bench process started by a runner: `node <entry> <config as JSON>`, reporting JSON lines on stdout.
 * Its stdin is a pipe the runner closes to ask it to stop (and that closes by itself if the runner dies).
 */
export class BenchProcess {
  /** What the process is in the bench, for messages (`baseline master`, `baseline worker 2`, …). */
  readonly role: string;
  /** Its process id. */
  readonly pid: number;
  /** Resolves when the process has exited (stdout fully read, so every report is in). */
  readonly closed: Promise<void>;
  readonly #child: ChildProcess;
  readonly #reports: BenchReport[] = [];
  readonly #listeners = new Set<() => void>();
  #stderr = "";
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #isClosed = false;

  private constructor(role: string, child: ChildProcess, pid: number) {
    this.role = role;
    this.#child = child;
    this.pid = pid;
    child.stdin?.on("error", () => undefined); // EPIPE when it already exited: its exit tells the story.
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-STDERR_TAIL_BYTES);
    });
    if (child.stdout) {
      createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
        const report = parseReport(line);
        if (report) this.#reports.push(report);
        this.#notify();
      });
    }
    child.once("exit", (code, signal) => {
      this.#exit = { code, signal };
    });
    this.closed = new Promise((resolve) => {
      child.once("close", (code: number | null, signal: NodeJS.Signals | null) => {
        this.#exit ??= { code, signal };
        this.#isClosed = true;
        this.#notify();
        resolve();
      });
    });
  }

  /** Starts `node <args…> <config as JSON>`; throws when the process cannot be started at all. */
  static start(role: string, args: readonly string[], config: unknown): BenchProcess {
    const child = spawn(process.execPath, [...args, JSON.stringify(config)], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    if (child.pid === undefined) {
      // spawn reports a failure to start asynchronously; the pid tells us now.
      child.once("error", () => undefined);
      throw new Error(`Cannot start bench process "${role}": ${process.execPath} ${args.join(" ")}`);
    }
    return new BenchProcess(role, child, child.pid);
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exit !== undefined || this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  /**
   * The first report of `type`. Rejects, with the process's stderr, if it exits without one, and after
   * `timeoutMs`.
   */
  report(type: string, timeoutMs: number): Promise<BenchReport> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.#reports.find((r) => r.type === type);
        if (found) return settle(() => resolve(found));
        if (this.#isClosed) return settle(() => reject(this.#failure(`exited before reporting "${type}"`)));
      };
      const timer = setTimeout(
        () => settle(() => reject(this.#failure(`did not report "${type}" within ${timeoutMs} ms`))),
        timeoutMs,
      );
      const settle = (action: () => void) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        action();
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** Every report of `type` received so far, in order. */
  reports(type: string): BenchReport[] {
    return this.#reports.filter((r) => r.type === type);
  }

  /** Calls `listener` with every report from now on; returns the function that stops it. */
  onReport(listener: (report: BenchReport) => void): () => void {
    let seen = this.#reports.length;
    const check = () => {
      while (seen < this.#reports.length) listener(this.#reports[seen++]!);
    };
    this.#listeners.add(check);
    return () => this.#listeners.delete(check);
  }

  /**
   * Asks the process for its CPU time now (a `mark <name>` line on its stdin, with `atMs` after the name
   * if given: when the phase began, epoch ms; see `answerMarks`); resolves with it, or NaN if no answer
   * comes within `timeoutMs`.
   */
  async mark(name: string, atMs?: number, timeoutMs = 5000): Promise<number> {
    this.#child.stdin?.write(`mark ${name}${atMs === undefined ? "" : ` ${atMs}`}\n`);
    const started = Date.now();
    for (;;) {
      const found = this.#reports.find((r) => r.type === "mark" && r["name"] === name);
      if (found) return typeof found["cpuMs"] === "number" ? found["cpuMs"] : Number.NaN;
      if (this.#isClosed || Date.now() - started > timeoutMs) return Number.NaN;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        const wake = () => {
          clearTimeout(timer);
          this.#listeners.delete(wake);
          resolve();
        };
        this.#listeners.add(wake);
      });
    }
  }

  /** Rejects with a clear error naming the process once it exits; never resolves. */
  failsOnExit(): Promise<never> {
    return this.closed.then(() => {
      throw this.#failure("exited before the run was over");
    });
  }

  /** Resolves once the process has exited; rejects with a clear error if it still runs after `timeoutMs`. */
  async exitsWithin(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(this.#failure(`did not exit within ${timeoutMs} ms of finishing`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.closed, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Asks the process to stop: closes its stdin. */
  requestStop(): void {
    this.#child.stdin?.end();
  }

  /** Ends the process if it still runs: SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
  async kill(graceMs: number): Promise<void> {
    if (this.#isClosed) return;
    if (!this.exited) signal(this.pid, "SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([this.closed, grace]);
    clearTimeout(timer);
    if (!this.exited) signal(this.pid, "SIGKILL");
    // Its stdio may be held open by nothing else; destroying the pipes lets "close" fire promptly.
    await Promise.race([this.closed, new Promise((resolve) => setTimeout(resolve, graceMs))]);
    this.#child.stdout?.destroy();
    this.#child.stderr?.destroy();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  #failure(what: string): Error {
    const exit = this.#exit;
    const how =
      exit === undefined ? "" : exit.signal ? ` (signal ${exit.signal})` : ` (exit code ${exit.code})`;
    const stderr = this.#stderr.trim();
    return new Error(
      `Bench process "${this.role}" (pid ${this.pid}) ${what}${how}${stderr ? `:\n${stderr}` : ""}`,
    );
  }
}

function parseReport(line: string): BenchReport | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === "object" && value !== null && typeof (value as BenchReport).type === "string") {
      return value as BenchReport;
    }
  } catch {
    // Not a report (some library wrote to stdout): ignored.
  }
  return undefined;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // ESRCH: it exited meanwhile.
  }
}
