import { getHeapSpaceStatistics } from "node:v8";

/** A line a bench process writes to its runner: one JSON object per stdout line, told apart by `type`. */
export interface BenchReport {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** The environment variable a bench process reads its JSON configuration from when argv has none. */
export const BENCH_CONFIG_ENV = "PALM_BENCH_CONFIG";

/**
 * Reads a bench process's JSON configuration from its first argument (or {@link BENCH_CONFIG_ENV}): an
 * object with `endpoints`. Only that shape is checked; the runner is the only writer.
 */
export function readChildConfig<T>(role: string): T {
  const raw = process.argv[2] ?? process.env[BENCH_CONFIG_ENV];
  if (raw === undefined) {
    throw new Error(`The ${role} needs its configuration as a JSON argument or in ${BENCH_CONFIG_ENV}`);
  }
  const parsed: unknown = JSON.parse(raw);
  if (typeof parsed !== "object" || parsed === null || !("endpoints" in parsed)) {
    throw new Error(`The ${role} configuration must be an object with \`endpoints\`, got ${raw}`);
  }
  return parsed as T;
}

/** Writes one report line to stdout (a pipe, written synchronously on Linux, so nothing is lost on exit). */
export function report(line: BenchReport): void {
  process.stdout.write(JSON.stringify(line) + "\n");
}

/** This process's peak resident set size so far, in kilobytes. */
export function peakRssKb(): number {
  return process.resourceUsage().maxRSS;
}

/** What V8's heap has committed, by generation, MB: where a process's RSS goes besides code and buffers. */
export interface HeapSpacesMb {
  /** The young generation (semi-spaces and new large objects): what scavenges collect. */
  readonly young: number;
  /** The old generation (old space and large objects): what survived two scavenges. */
  readonly old: number;
  /** Compiled code. */
  readonly code: number;
  /** Everything V8 has committed. */
  readonly total: number;
}

/** This process's V8 heap as committed now, by generation, MB. */
export function heapSpacesMb(): HeapSpacesMb {
  let young = 0;
  let old = 0;
  let code = 0;
  let total = 0;
  for (const { space_name: name, space_size: size } of getHeapSpaceStatistics()) {
    total += size;
    if (name === "new_space" || name === "new_large_object_space") young += size;
    else if (name === "old_space" || name === "large_object_space") old += size;
    else if (name === "code_space" || name === "code_large_object_space") code += size;
  }
  const mb = (bytes: number) => bytes / (1024 * 1024);
  return { young: mb(young), old: mb(old), code: mb(code), total: mb(total) };
}

/** CPU time this process has used so far (user + system), in milliseconds. */
export function cpuMs(): number {
  const { userCPUTime, systemCPUTime } = process.resourceUsage();
  return (userCPUTime + systemCPUTime) / 1000;
}

/**
 * Calls `stop` once, when the runner asks: its stdin ends (the runner closed it, or died) or SIGTERM/SIGINT
 * arrives. Reading stdin is what makes an orphaned bench process go away on its own. Returns a function
 * that stops listening (and releases stdin) without calling `stop`, for a process that ends by itself.
 */
export function onStopRequest(stop: () => void): () => void {
  let done = false;
  const release = () => {
    if (done) return false;
    done = true;
    for (const event of ["end", "close", "error"]) process.stdin.removeListener(event, requested);
    process.removeListener("SIGTERM", requested);
    process.removeListener("SIGINT", requested);
    process.stdin.destroy();
    return true;
  };
  function requested() {
    if (release()) stop();
  }
  for (const event of ["end", "close", "error"]) process.stdin.on(event, requested);
  process.stdin.resume();
  process.on("SIGTERM", requested);
  process.on("SIGINT", requested);
  return () => void release();
}

/** The phases a bench client reports, and the runner marks in the other processes: its measured job. */
export const JOB_START = "job-start";
export const JOB_END = "job-end";

/**
 * Answers the runner's marks: a line `mark <name>` on stdin is answered with a `{"type":"mark","name",
 * "cpuMs"}` report, so the runner can tell the CPU a process used during one phase of a run. `onMark`, if
 * given, runs first, with the mark's name and the time the line gives after it (`mark <name> <atMs>`).
 */
export function answerMarks(onMark?: (name: string, atMs: number | undefined) => void): void {
  let pending = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    pending += chunk;
    for (let cut = pending.indexOf("\n"); cut !== -1; cut = pending.indexOf("\n")) {
      const line = pending.slice(0, cut).trim();
      pending = pending.slice(cut + 1);
      if (!line.startsWith("mark ")) continue;
      const [name = "", at] = line.slice(5).split(" ");
      onMark?.(name, at === undefined ? undefined : Number(at));
      report({ type: "mark", name, cpuMs: cpuMs() });
    }
  });
}

/** Ends a bench process that failed: the error (with its stack) to stderr, exit code 1. */
export function failBenchProcess(role: string, error: unknown): never {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`${role} failed: ${text}\n`);
  process.exit(1);
}

/**
 * Runs a bench process's `main`: on success the process exits on its own once its sockets are closed
 * (an unref'd timer forces the exit if some handle lingers); on failure see {@link failBenchProcess}.
 */
export function runBenchMain(role: string, main: () => Promise<void>): void {
  main().then(
    () => {
      setTimeout(() => {
        process.stderr.write(`${role}: a handle kept the process alive after its sockets closed; exiting\n`);
        process.exit(0);
      }, 3000).unref();
    },
    (error: unknown) => failBenchProcess(role, error),
  );
}
