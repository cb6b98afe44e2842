import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { freeEndpoints } from "../src/testing/ports.js";

// Every pylm example scenario, run as the separate processes a user would start: the servers and workers
// of `examples/<name>/` on free ports, then the client, whose stdout is checked. Servers print `ready`
// once they serve; every process is stopped by PID (SIGTERM, then SIGKILL after a grace) and each server
// must exit 0 on SIGTERM.

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const READY_TIMEOUT_MS = 20_000;
const CLIENT_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

/** One program of an example: its file under `examples/` and its arguments. */
type Program = [file: string, ...args: string[]];

/** A running program, with what it printed so far. */
class ExampleProcess {
  readonly label: string;
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;
  readonly #watchers = new Set<() => void>();

  constructor(program: Program, env: NodeJS.ProcessEnv) {
    const [file, ...args] = program;
    this.label = [file, ...args].join(" ");
    this.child = spawn(process.execPath, ["--import", "tsx", `examples/${file}`, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      this.stdout += chunk;
      this.#notify();
    });
    this.child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.once("close", (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        this.#notify();
        resolve();
      });
    });
  }

  get running(): boolean {
    return this.exitCode === null && this.signal === null;
  }

  get lines(): string[] {
    return this.stdout.split("\n").filter((line) => line.length > 0);
  }

  #notify(): void {
    for (const watcher of this.#watchers) watcher();
  }

  /** Resolves once `check(stdout lines)` holds; rejects if the process ends first or on timeout. */
  waitFor(what: string, check: (lines: string[]) => boolean, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        this.#watchers.delete(watcher);
        if (error) reject(error);
        else resolve();
      };
      const describeState = () =>
        `${this.label}: stdout ${JSON.stringify(this.stdout)}, stderr ${JSON.stringify(this.stderr.slice(-2000))}`;
      const watcher = () => {
        if (check(this.lines)) done();
        else if (!this.running)
          done(
            new Error(
              `${this.label} exited (${this.exitCode ?? this.signal}) before ${what}; ${describeState()}`,
            ),
          );
      };
      const timer = setTimeout(
        () => done(new Error(`${this.label}: no ${what} within ${timeoutMs} ms; ${describeState()}`)),
        timeoutMs,
      );
      this.#watchers.add(watcher);
      watcher();
    });
  }

  ready(): Promise<void> {
    return this.waitFor('"ready"', (lines) => lines.includes("ready"));
  }

  /** SIGTERM, then SIGKILL if it has not exited after the grace period. Returns whether it needed SIGKILL. */
  async stop(): Promise<boolean> {
    if (!this.running) return false;
    this.child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const graceful = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), STOP_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    if (graceful) return false;
    this.child.kill("SIGKILL");
    await this.exited;
    return true;
  }
}

/** Endpoints handed out so far: scenarios run side by side, so no two may get the same port. */
const handedOut = new Set<string>();

async function uniqueEndpoints(count: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < count) {
    for (const endpoint of await freeEndpoints(count - out.length)) {
      if (handedOut.has(endpoint)) continue;
      handedOut.add(endpoint);
      out.push(endpoint);
    }
  }
  return out;
}

/** The environment that puts `groups` address groups of an example on free ports (see examples/addresses.ts). */
async function freeAddresses(groups: number): Promise<NodeJS.ProcessEnv> {
  const ports = await uniqueEndpoints(5 * groups);
  const env: NodeJS.ProcessEnv = { PALM_LOG_LEVEL: "info" };
  for (let group = 1; group <= groups; group++) {
    const suffix = group === 1 ? "" : `_${group}`;
    const [pull, pub, workerPull, workerPush, db] = ports.slice(5 * (group - 1), 5 * group);
    env[`PALM_PULL${suffix}`] = pull;
    env[`PALM_PUB${suffix}`] = pub;
    env[`PALM_WORKER_PULL${suffix}`] = workerPull;
    env[`PALM_WORKER_PUSH${suffix}`] = workerPush;
    env[`PALM_DB${suffix}`] = db;
  }
  return env;
}

interface Cluster {
  /** The server and worker processes, by label (`stream/pipeline_echo.ts`, `parallel/worker.ts w1`). */
  readonly servers: Map<string, ExampleProcess>;
  /** Runs a client program to its end; it must exit 0 on its own. Returns its stdout lines. */
  client(program: Program): Promise<string[]>;
}

/**
 * Starts an example's servers stage by stage — the programs of one stage together, the next stage once
 * all are ready, so a subscriber never joins before its publisher is bound — runs `body`, then stops
 * every process and checks that each server exited 0 on SIGTERM.
 */
async function withCluster(
  groups: number,
  stages: Program[][],
  body: (cluster: Cluster) => Promise<void>,
): Promise<void> {
  const env = await freeAddresses(groups);
  const servers = new Map<string, ExampleProcess>();
  const clients: ExampleProcess[] = [];
  let failure: unknown;
  try {
    for (const stage of stages) {
      const started = stage.map((program) => new ExampleProcess(program, env));
      for (const p of started) servers.set(p.label, p);
      await Promise.all(started.map((p) => p.ready()));
    }
    await body({
      servers,
      client: async (program) => {
        const p = new ExampleProcess(program, env);
        clients.push(p);
        await p.waitFor("exit", () => !p.running, CLIENT_TIMEOUT_MS);
        assert.equal(p.exitCode, 0, `${p.label} exited ${p.exitCode ?? p.signal}; stderr: ${p.stderr}`);
        return p.lines;
      },
    });
  } catch (error) {
    failure = error;
  } finally {
    await Promise.all(clients.map((p) => p.stop()));
    const stops = await Promise.all(
      [...servers.values()].map(async (p) => {
        const wasRunning = p.running;
        const killed = await p.stop();
        return { p, wasRunning, killed };
      }),
    );
    if (failure === undefined) {
      for (const { p, wasRunning, killed } of stops) {
        assert.ok(wasRunning, `${p.label} ended before it was stopped; stderr: ${p.stderr.slice(-2000)}`);
        assert.ok(!killed, `${p.label} did not exit within ${STOP_GRACE_MS} ms of SIGTERM`);
        assert.equal(
          p.exitCode,
          0,
          `${p.label} exited ${p.exitCode ?? p.signal} on SIGTERM: ${p.stderr.slice(-2000)}`,
        );
      }
    }
  }
  if (failure !== undefined) throw failure;
}

/** The pino JSON lines a process wrote to stderr. */
function logLines(p: ExampleProcess): Array<{ level: number; msg?: string; [key: string]: unknown }> {
  return p.stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line));
}

const times = (count: number, line: string) => Array.from({ length: count }, () => line);
const numbered = (indices: number[], line: (i: number) => string) => indices.map(line);
const EVEN = [0, 2, 4, 6, 8];
const ODD = [1, 3, 5, 7, 9];
const ALL = [...EVEN, ...ODD].sort();

// Two scenarios at a time: most of a scenario's time is spent waiting for processes to start.
describe("examples: every pylm scenario as separate processes", { concurrency: 2 }, () => {
  it("single: a Server answers one eval", async () => {
    await withCluster(1, [[["single/server.ts"]]], async ({ client }) => {
      assert.deepEqual(await client(["single/client.ts"]), ["Client got: you sent me a message"]);
    });
  });

  it("parallel: ten results from a Master, shared by both workers", async () => {
    const stage: Program[] = [
      ["parallel/master.ts"],
      ["parallel/worker.ts", "w1"],
      ["parallel/worker.ts", "w2"],
    ];
    await withCluster(1, [stage], async ({ client }) => {
      const lines = await client(["parallel/client.ts"]);
      assert.equal(lines.length, 10);
      for (const line of lines) assert.match(line, /^w[12] processed a message$/);
      assert.ok(
        lines.some((line) => line.startsWith("w1 ")),
        "worker w1 did some of the work",
      );
      assert.ok(
        lines.some((line) => line.startsWith("w2 ")),
        "worker w2 did some of the work",
      );
    });
  });

  it("template: the seed's ServerTemplate master serves the parallel example's workers and client", async () => {
    const stage: Program[] = [
      ["template/master.ts"],
      ["parallel/worker.ts", "w1"],
      ["parallel/worker.ts", "w2"],
    ];
    await withCluster(1, [stage], async ({ client }) => {
      const lines = await client(["parallel/client.ts"]);
      assert.equal(lines.length, 10);
      for (const line of lines) assert.match(line, /^w[12] processed a message$/);
      assert.ok(lines.some((line) => line.startsWith("w1 ")) && lines.some((line) => line.startsWith("w2 ")));
    });
  });

  it("cache: workers read the value the client stored in the master's cache", async () => {
    await withCluster(1, [[["cache/master.ts"], ["cache/worker.ts", "w1"]]], async ({ client }) => {
      assert.deepEqual(await client(["cache/client.ts"]), [
        '" cached data "',
        ...times(10, "w1 cached data a message"),
      ]);
    });
  });

  it("scatter: three messages to the workers for each of the ten sent, thirty results", async () => {
    const stage: Program[] = [
      ["scatter/master.ts"],
      ["scatter/worker.ts", "w1"],
      ["scatter/worker.ts", "w2"],
    ];
    await withCluster(1, [stage], async ({ client }) => {
      assert.deepEqual(await client(["scatter/client.ts"]), [
        ...ALL.flatMap((i) => times(3, `processed message ${i}`)),
        "30 results",
      ]);
    });
  });

  it("gather: the thirtieth result is replaced by the master's gather", async () => {
    await withCluster(1, [[["gather/master.ts"], ["gather/worker.ts", "w1"]]], async ({ client }) => {
      assert.deepEqual(await client(["gather/client.ts"]), [
        "30 results",
        "29 processed by the workers",
        "last: final message",
      ]);
    });
  });

  it("logging: each process logs at its own level and above only", async () => {
    await withCluster(
      1,
      [[["logging/master.ts"], ["logging/worker.ts", "w1"]]],
      async ({ client, servers }) => {
        assert.deepEqual(await client(["logging/client.ts"]), ["30 results", "last: final message"]);
        const worker = servers.get("logging/worker.ts w1")!;
        await worker.waitFor("log lines", () =>
          logLines(worker).some((l) => l.msg === "Processed 30 messages"),
        );
        const master = logLines(servers.get("logging/master.ts")!);
        // The master logs at `warn`: its `info` start-up lines are not written, its `fatal` line is.
        assert.ok(master.length > 0);
        for (const line of master)
          assert.ok(line.level >= 40, `master logged below warn: ${JSON.stringify(line)}`);
        assert.deepEqual(
          master.filter((line) => line.level === 60).map((line) => line.msg),
          ["Changing the payload of the message"],
        );
        // The worker logs at `info`: its "Processed" lines are written, its `debug` lines are not.
        const lines = logLines(worker);
        for (const line of lines)
          assert.ok(line.level >= 30, `worker logged below info: ${JSON.stringify(line)}`);
        assert.deepEqual(
          lines.filter((line) => line.msg?.startsWith("Processed")).map((line) => [line.level, line.msg]),
          [
            [30, "Processed 10 messages"],
            [30, "Processed 20 messages"],
            [30, "Processed 30 messages"],
          ],
        );
      },
    );
  });

  it("error: a function that throws gives the client a RemoteError and the server keeps serving", async () => {
    await withCluster(1, [[["error/server.ts"]]], async ({ client, servers }) => {
      assert.deepEqual(await client(["error/client.ts"]), [
        "Client got a RemoteError from my_server.foo: TypeError: Cannot read properties of undefined (reading 'toUpperCase')",
        "Client got: still serving",
      ]);
      const server = servers.get("error/server.ts")!;
      assert.ok(server.running);
      const logged = logLines(server).find((line) => line.msg === "user function threw");
      assert.ok(logged, "the error is logged");
      assert.match(String((logged.err as { stack?: string }).stack), /TypeError[\s\S]*at MyServer\.foo/);
      // A second client is served as well.
      assert.equal((await client(["error/client.ts"])).length, 2);
    });
  });

  it("pipeline: a pipelined Server feeds a Pipeline that answers the client", async () => {
    await withCluster(2, [[["pipeline/server.ts"]], [["pipeline/pipeline.ts"]]], async ({ client }) => {
      assert.deepEqual(await client(["pipeline/client.ts"]), [
        "Client got: and I pipelined you sent me a message",
      ]);
    });
  });

  it("stream: handleStream sends even messages to one pipeline and odd ones to the other", async () => {
    const stages: Program[][] = [
      [["stream/server.ts"]],
      [["stream/pipeline_close.ts"], ["stream/pipeline_echo.ts"]],
    ];
    await withCluster(3, stages, async ({ client, servers }) => {
      assert.deepEqual(
        await client(["stream/client.ts"]),
        numbered(EVEN, (i) => `Client got: and I pipelined you sent me message ${i}`),
      );
      const echo = servers.get("stream/pipeline_echo.ts")!;
      const echoed = (lines: string[]) => lines.filter((line) => line.startsWith("echo: "));
      await echo.waitFor("five echoes", (lines) => echoed(lines).length >= 5);
      assert.deepEqual(
        echoed(echo.lines).sort(),
        numbered(ODD, (i) => `echo: you sent me message ${i}`),
      );
    });
  });

  it("tee: both pipelines get every message", async () => {
    const stages: Program[][] = [[["tee/server.ts"]], [["tee/pipeline_close.ts"], ["tee/pipeline_echo.ts"]]];
    await withCluster(3, stages, async ({ client, servers }) => {
      assert.deepEqual(
        await client(["tee/client.ts"]),
        numbered(ALL, (i) => `Client got: and I pipelined you sent me message ${i}`),
      );
      const echo = servers.get("tee/pipeline_echo.ts")!;
      const echoed = (lines: string[]) => lines.filter((line) => line.startsWith("echo: "));
      await echo.waitFor("ten echoes", (lines) => echoed(lines).length >= 10);
      assert.deepEqual(
        echoed(echo.lines).sort(),
        numbered(ALL, (i) => `echo: you sent me message ${i}`),
      );
    });
  });

  it("sink: a Sink gathers the streams of two servers into one", async () => {
    const stages: Program[][] = [
      [
        ["sink/server.ts", "1"],
        ["sink/server.ts", "2"],
      ],
      [["sink/sink.ts"]],
    ];
    await withCluster(4, stages, async ({ client }) => {
      assert.deepEqual(await client(["sink/client.ts"]), [
        ...numbered([0, 1, 2, 3, 4], (i) => `Client got: and gathered stream1 sent you message ${i}`),
        ...numbered([0, 1, 2, 3, 4], (i) => `Client got: and gathered stream2 sent you message ${i}`),
      ]);
    });
  });

  it("stream_sink: a stream split into even and odd pipelines is joined again by a Sink", async () => {
    const stages: Program[][] = [
      [["stream_sink/server.ts"]],
      [["stream_sink/pipeline_even.ts"], ["stream_sink/pipeline_odd.ts"]],
      [["stream_sink/sink.ts"]],
    ];
    await withCluster(4, stages, async ({ client }) => {
      assert.deepEqual(await client(["stream_sink/client.ts"]), [
        ...numbered(EVEN, (i) => `Client got: and gathered and I pipelined (even) you sent me message ${i}`),
        ...numbered(ODD, (i) => `Client got: and gathered and I pipelined (odd) you sent me message ${i}`),
      ]);
    });
  });

  it("server_hub: a pipelined Server feeds a Hub whose workers answer the client", async () => {
    const stages: Program[][] = [
      [["server_hub/server.ts"]],
      [["server_hub/hub.ts"], ["server_hub/worker.ts", "w1"]],
    ];
    await withCluster(2, stages, async ({ client }) => {
      assert.deepEqual(await client(["server_hub/client.ts"]), [
        "Client got: w1 processed you sent me a message",
      ]);
    });
  });

  it("master_pipeline: a pipelined Master's results go through a Pipeline to the client", async () => {
    const stages: Program[][] = [
      [["master_pipeline/master.ts"], ["master_pipeline/worker.ts", "w1"]],
      [["master_pipeline/pipeline.ts"]],
    ];
    await withCluster(2, stages, async ({ client }) => {
      assert.deepEqual(
        await client(["master_pipeline/client.ts"]),
        times(10, "and I pipelined w1 processed a message"),
      );
    });
  });

  it("mux_parallel: MuxWorkers send two results per message", async () => {
    const stage: Program[] = [
      ["mux_parallel/master.ts"],
      ["mux_parallel/worker.ts", "w1"],
      ["mux_parallel/worker.ts", "w2"],
    ];
    await withCluster(1, [stage], async ({ client }) => {
      assert.deepEqual(
        await client(["mux_parallel/client.ts"]),
        ALL.flatMap((i) => [`processed message ${i} 1`, `processed message ${i} 2`]),
      );
    });
  });
});
