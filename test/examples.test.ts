import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { plans } from "../examples/plans.js";
import { freeEndpoints } from "../src/testing/ports.js";

// Every example run as a user runs it, `npm run example -- <name>` (the script runs examples/run.ts):
// the runner starts the example's servers and workers as separate processes, runs its client, stops
// them all and exits 0 only if the client exited 0 and each server exited 0 on SIGTERM. The test gives
// each run its own free ports (runs go side by side) and checks what each role printed.

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUN_TIMEOUT_MS = 180_000;

/** Endpoints handed out so far: examples run side by side, so no two may get the same port. */
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

/** The environment that puts every address and port of an example on free, unique ports. */
async function freeAddresses(name: string): Promise<NodeJS.ProcessEnv> {
  const plan = plans[name]!;
  const extra = Object.entries(plan.ports ?? {});
  const ports = await uniqueEndpoints(5 * plan.groups + extra.length);
  const env: NodeJS.ProcessEnv = { PALM_LOG_LEVEL: "info" };
  for (let group = 1; group <= plan.groups; group++) {
    const suffix = group === 1 ? "" : `_${group}`;
    const [pull, pub, workerPull, workerPush, db] = ports.slice(5 * (group - 1), 5 * group);
    env[`PALM_PULL${suffix}`] = pull;
    env[`PALM_PUB${suffix}`] = pub;
    env[`PALM_WORKER_PULL${suffix}`] = workerPull;
    env[`PALM_WORKER_PUSH${suffix}`] = workerPush;
    env[`PALM_DB${suffix}`] = db;
  }
  extra.forEach(([variable, kind], i) => {
    const endpoint = ports[5 * plan.groups + i]!;
    env[variable] =
      kind === "http" ? endpoint.replace("tcp://", "http://") : endpoint.slice(endpoint.lastIndexOf(":") + 1);
  });
  return env;
}

/** What one run printed, by role: stdout lines and stderr lines. */
interface Run {
  readonly stdout: Map<string, string[]>;
  readonly stderr: Map<string, string[]>;
  /** The runner's own lines (not prefixed by a role). */
  readonly own: string[];
}

function byRole(text: string, own: string[]): Map<string, string[]> {
  const roles = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    if (line.length === 0) continue;
    const match = /^(.+?) \| (.*)$/.exec(line);
    if (!match) {
      own.push(line);
      continue;
    }
    const [, role, rest] = match;
    if (!roles.has(role!)) roles.set(role!, []);
    if (rest!.length > 0) roles.get(role!)!.push(rest!);
  }
  return roles;
}

/** Runs `npm run example -- <name> [...args]` (examples/run.ts); it must exit 0 on its own. */
async function example(name: string, ...args: string[]): Promise<Run> {
  const env = await freeAddresses(name);
  const child = spawn(process.execPath, ["--import", "tsx", "examples/run.ts", name, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  let timer: NodeJS.Timeout | undefined;
  const exit = await new Promise<number | string | null>((resolve) => {
    timer = setTimeout(() => {
      child.kill("SIGINT");
      resolve("timeout");
    }, RUN_TIMEOUT_MS);
    child.once("close", (code, signal) => resolve(code ?? signal));
  });
  clearTimeout(timer);
  assert.equal(
    exit,
    0,
    `example ${name} exited ${exit}; stdout: ${stdout.slice(-3000)}; stderr: ${stderr.slice(-3000)}`,
  );
  const own: string[] = [];
  const run = { stdout: byRole(stdout, own), stderr: byRole(stderr, []), own };
  assert.match(own.at(-1) ?? "", new RegExp(`^example ${name}: done, every server stopped cleanly`));
  return run;
}

/** The pino JSON lines a role wrote to stderr. */
function logLines(run: Run, role: string): Array<{ level: number; msg?: string; [key: string]: unknown }> {
  return (run.stderr.get(role) ?? []).filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
}

const times = (count: number, line: string) => Array.from({ length: count }, () => line);
const numbered = (indices: number[], line: (i: number) => string) => indices.map(line);
const EVEN = [0, 2, 4, 6, 8];
const ODD = [1, 3, 5, 7, 9];
const ALL = [...EVEN, ...ODD].sort();
const echoed = (lines: string[]) => lines.filter((line) => line.startsWith("echo: ")).sort();

// Two examples at a time: most of an example's time is spent waiting for processes to start.
describe("examples: `npm run example -- <name>` runs every example's processes", { concurrency: 2 }, () => {
  it("covers every example folder", () => {
    const folders = readdirSync(join(ROOT, "examples"), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    assert.deepEqual(Object.keys(plans).sort(), folders);
  });

  it("single: a Server answers one eval", async () => {
    const run = await example("single");
    assert.deepEqual(run.stdout.get("client"), ["Client got: you sent me a message"]);
    assert.deepEqual(run.stdout.get("server"), ["ready"]);
  });

  for (const name of ["parallel", "template"]) {
    it(`${name}: ten results from a Master, shared by both workers`, async () => {
      const lines = (await example(name)).stdout.get("client")!;
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
  }

  it("cache: workers read the value the client stored in the master's cache", async () => {
    assert.deepEqual((await example("cache")).stdout.get("client"), [
      '" cached data "',
      ...times(10, "w1 cached data a message"),
    ]);
  });

  it("scatter: three messages to the workers for each of the ten sent, thirty results", async () => {
    assert.deepEqual((await example("scatter")).stdout.get("client"), [
      ...ALL.flatMap((i) => times(3, `processed message ${i}`)),
      "30 results",
    ]);
  });

  it("gather: the thirtieth result is replaced by the master's gather", async () => {
    assert.deepEqual((await example("gather")).stdout.get("client"), [
      "30 results",
      "29 processed by the workers",
      "last: final message",
    ]);
  });

  it("logging: each process logs at its own level and above only", async () => {
    const run = await example("logging");
    assert.deepEqual(run.stdout.get("client"), ["30 results", "last: final message"]);
    const master = logLines(run, "master");
    // The master logs at `warn`: its `info` start-up lines are not written, its `fatal` line is.
    assert.ok(master.length > 0);
    for (const line of master)
      assert.ok(line.level >= 40, `master logged below warn: ${JSON.stringify(line)}`);
    assert.deepEqual(
      master.filter((line) => line.level === 60).map((line) => line.msg),
      ["Changing the payload of the message"],
    );
    // The worker logs at `info`: its "Processed" lines are written, its `debug` lines are not.
    const lines = logLines(run, "worker w1");
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
  });

  it("error: a function that throws gives the client a RemoteError and the server keeps serving", async () => {
    const run = await example("error");
    assert.deepEqual(run.stdout.get("client"), [
      "Client got a RemoteError from my_server.foo: TypeError: Cannot read properties of undefined (reading 'toUpperCase')",
      "Client got: still serving",
    ]);
    const logged = logLines(run, "server").find((line) => line.msg === "user function threw");
    assert.ok(logged, "the error is logged");
    assert.match(String((logged.err as { stack?: string }).stack), /TypeError[\s\S]*at MyServer\.foo/);
  });

  it("pipeline: a pipelined Server feeds a Pipeline that answers the client", async () => {
    assert.deepEqual((await example("pipeline")).stdout.get("client"), [
      "Client got: and I pipelined you sent me a message",
    ]);
  });

  it("stream: handleStream sends even messages to one pipeline and odd ones to the other", async () => {
    const run = await example("stream");
    assert.deepEqual(
      run.stdout.get("client"),
      numbered(EVEN, (i) => `Client got: and I pipelined you sent me message ${i}`),
    );
    assert.deepEqual(
      echoed(run.stdout.get("pipeline_echo")!),
      numbered(ODD, (i) => `echo: you sent me message ${i}`),
    );
  });

  it("tee: both pipelines get every message", async () => {
    const run = await example("tee");
    assert.deepEqual(
      run.stdout.get("client"),
      numbered(ALL, (i) => `Client got: and I pipelined you sent me message ${i}`),
    );
    assert.deepEqual(
      echoed(run.stdout.get("pipeline_echo")!),
      numbered(ALL, (i) => `echo: you sent me message ${i}`),
    );
  });

  it("sink: a Sink gathers the streams of two servers into one", async () => {
    assert.deepEqual((await example("sink")).stdout.get("client"), [
      ...numbered([0, 1, 2, 3, 4], (i) => `Client got: and gathered stream1 sent you message ${i}`),
      ...numbered([0, 1, 2, 3, 4], (i) => `Client got: and gathered stream2 sent you message ${i}`),
    ]);
  });

  it("stream_sink: a stream split into even and odd pipelines is joined again by a Sink", async () => {
    assert.deepEqual((await example("stream_sink")).stdout.get("client"), [
      ...numbered(EVEN, (i) => `Client got: and gathered and I pipelined (even) you sent me message ${i}`),
      ...numbered(ODD, (i) => `Client got: and gathered and I pipelined (odd) you sent me message ${i}`),
    ]);
  });

  it("server_hub: a pipelined Server feeds a Hub whose workers answer the client", async () => {
    assert.deepEqual((await example("server_hub")).stdout.get("client"), [
      "Client got: w1 processed you sent me a message",
    ]);
  });

  it("master_pipeline: a pipelined Master's results go through a Pipeline to the client", async () => {
    assert.deepEqual(
      (await example("master_pipeline")).stdout.get("client"),
      times(10, "and I pipelined w1 processed a message"),
    );
  });

  it("mux_parallel: MuxWorkers send two results per message", async () => {
    assert.deepEqual(
      (await example("mux_parallel")).stdout.get("client"),
      ALL.flatMap((i) => [`processed message ${i} 1`, `processed message ${i} 2`]),
    );
  });

  it("http: a master hands ten messages to its HTTP worker", async () => {
    assert.deepEqual((await example("http")).stdout.get("client"), times(10, "a message processed online"));
  });

  it("gateway: HTTP requests through the gateway to a worker, each answered", async () => {
    const lines = (await example("gateway")).stdout.get("client")!;
    assert.equal(lines.length, 2);
    assert.equal(lines[0], "echo: 200 hello");
    assert.match(lines[1]!, /^foo: 200 w[12] processed a message$/);
  });

  it("supervision: every result exactly once while WorkerPush is crashed", async () => {
    const lines = (await example("supervision", "--messages", "3000", "--crashes", "15")).stdout.get("run")!;
    for (const line of ["results: 3000", "lost: 0", "duplicated: 0", "errors: 0", "restarts: 15"])
      assert.ok(
        lines.some((l) => l.startsWith(line)),
        `supervision printed "${line}": ${lines.join(" / ")}`,
      );
  });

  it("visualisation: a live master with its inspector, and palm viz drawing a server", async () => {
    const run = await example("visualisation");
    assert.match(run.stdout.get("live")![0]!, /^inspector: http:\/\/127\.0\.0\.1:\d+\//);
    const rounds = run.stdout.get("live")!.filter((line) => line.startsWith("round "));
    assert.ok(rounds.length >= 2);
    for (const line of rounds) assert.match(line, /^round \d+: 100 results$/);
    const drawing = run.stdout.get("cli viz")!;
    assert.ok(drawing.includes("%% supervision") && drawing.includes("%% routing"), drawing.join("\n"));
  });
});
