import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClusterServer } from "../inspector/createClusterServer.js";
import { joinInspectors } from "../inspector/joinInspectors.js";
import { freeEndpoints } from "../testing/ports.js";
import type { DemoConfig } from "./role.js";

/** Options of `palm demo`. */
export interface DemoOptions {
  /** @default 10 */
  messages: number;
  /** @default 2 */
  workers: number;
  /**
   * Serve the cluster inspector (the master's and the workers' joined) on this port, and keep the client
   * sending a job a second until Ctrl-C.
   */
  inspect?: number;
  /** With `inspect`: also record what the page shows to this JSON-lines trace. */
  record?: string;
  /** Where to print (the CLI's stdout). */
  out?: (line: string) => void;
}

const rolePath = fileURLToPath(
  new URL(`./role.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url),
);

interface Started {
  child: ChildProcess;
  firstLine: Promise<string>;
  output: string[];
}

function start(role: string, config: DemoConfig): Started {
  const child = spawn(process.execPath, [...process.execArgv, rolePath, role, JSON.stringify(config)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const output: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  const firstLine = new Promise<string>((resolve, reject) => {
    lines.on("line", (line) => {
      output.push(line);
      if (output.length === 1) resolve(line);
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`the demo ${role} exited early (${signal ?? code})`)),
    );
  });
  firstLine.catch(() => undefined);
  return { child, firstLine, output };
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill("SIGKILL"), 3000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * `palm demo`: starts a Master, `workers` Workers and a Client as child processes on free loopback ports,
 * runs a job, prints the results and a one-line summary, stops everything. Resolves with the exit code.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const out = options.out ?? ((line: string) => console.log(line));
  const [pullAddress, pubAddress, workerPullAddress, workerPushAddress, dbAddress] = await freeEndpoints(5);
  const base: DemoConfig = {
    pullAddress: pullAddress!,
    pubAddress: pubAddress!,
    workerPullAddress: workerPullAddress!,
    workerPushAddress: workerPushAddress!,
    dbAddress: dbAddress!,
    messages: options.messages,
  };
  const children: ChildProcess[] = [];
  const closers: Array<() => Promise<void>> = [];
  try {
    const master = start("master", {
      ...base,
      ...(options.inspect !== undefined ? { inspectPort: 0 } : {}),
    });
    children.push(master.child);
    const ready = await master.firstLine;
    const inspectors = [ready.slice("ready".length).trim()];
    const workers = Array.from({ length: options.workers }, (_, i) =>
      start("worker", {
        ...base,
        name: `w${i + 1}`,
        ...(options.inspect !== undefined ? { inspectPort: 0 } : {}),
      }),
    );
    for (const worker of workers) children.push(worker.child);
    for (const line of await Promise.all(workers.map((w) => w.firstLine)))
      inspectors.push(line.slice("ready".length).trim());
    const looping = options.inspect !== undefined;
    const joined = looping
      ? await joinInspectors(inspectors, options.record ? { record: options.record } : {})
      : undefined;
    const page = joined
      ? await createClusterServer({ port: options.inspect!, source: joined.store })
      : undefined;
    if (joined) closers.push(() => joined.close());
    if (page) closers.unshift(() => page.close());
    out(`palm demo: a Master, ${options.workers} Worker(s) and a Client, each its own process, on 127.0.0.1`);
    const client = start("client", { ...base, loop: looping });
    children.push(client.child);
    const report = JSON.parse(await client.firstLine) as {
      results: string[];
      seconds: number;
      unexpected: number;
    };
    const shown = report.results.length <= 20 ? report.results : report.results.slice(0, 10);
    for (const line of shown) out(`  ${line}`);
    if (shown.length < report.results.length) out(`  … ${report.results.length - shown.length} more`);
    const perWorker = new Map<string, number>();
    for (const line of report.results) {
      const worker = /\((w\d+)\)$/.exec(line)?.[1] ?? "?";
      perWorker.set(worker, (perWorker.get(worker) ?? 0) + 1);
    }
    const distinct = new Set(report.results).size;
    const lost = options.messages - distinct;
    const rate = Math.round(report.results.length / Math.max(report.seconds, 1e-6));
    const split = [...perWorker]
      .sort()
      .map(([w, n]) => `${w} ${n}`)
      .join(", ");
    out(
      `summary: ${options.messages} messages, ${report.results.length} results in ${report.seconds.toFixed(3)} s (${rate} msg/s), ${lost} lost, ${report.results.length - distinct} duplicated; by worker: ${split}`,
    );
    if (page) {
      out(
        `inspector: ${page.url} (the master and ${options.workers} worker(s); a job a second; press Ctrl-C to stop)`,
      );
      await new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
      });
    }
    return lost === 0 ? 0 : 1;
  } finally {
    for (const close of closers) await close();
    await Promise.all(children.reverse().map(stopChild));
  }
}
