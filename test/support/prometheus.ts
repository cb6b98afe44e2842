// A real Prometheus server for tests: started on a free port with a temp data dir, stopped by PID.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/testing/ports.js";

/** Why the Prometheus tests cannot run here (Debian's `prometheus` package is missing), or false. */
export function prometheusMissing(): string | false {
  for (const tool of ["prometheus", "promtool"]) {
    try {
      execFileSync(tool, ["--version"], { stdio: "ignore" });
    } catch {
      return `${tool} is not installed (apt-get install prometheus)`;
    }
  }
  return false;
}

/** Runs `promtool check metrics` on an exposition; resolves with its output, throws with it if rejected. */
export function promtoolCheck(exposition: string): string {
  return execFileSync("promtool", ["check", "metrics"], { input: exposition, encoding: "utf8" });
}

export interface RunningPrometheus {
  readonly url: string;
  readonly pid: number;
  /** The value of an instant query's single result, or undefined while it has none. */
  query(expression: string): Promise<number | undefined>;
  stop(): Promise<void>;
}

/** Starts Prometheus scraping `targets` (host:port) every second. */
export async function startPrometheus(targets: string[]): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), "palm-prometheus-"));
  const config = join(dir, "prometheus.yml");
  writeFileSync(
    config,
    [
      "global:",
      "  scrape_interval: 1s",
      "  scrape_timeout: 1s",
      "scrape_configs:",
      "  - job_name: palm",
      "    static_configs:",
      `      - targets: [${targets.map((t) => `"${t}"`).join(", ")}]`,
      "",
    ].join("\n"),
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    "prometheus",
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, "SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const query = async (expression: string): Promise<number | undefined> => {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
    try {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expression)}`);
      if (!response.ok) return undefined;
      const body = (await response.json()) as { data: { result: Array<{ value: [number, string] }> } };
      const first = body.data.result[0];
      return body.data.result.length === 1 && first ? Number(first.value[1]) : undefined;
    } catch {
      return undefined; // not listening yet
    }
  };
  return { url, pid: child.pid ?? 0, query, stop };
}
