// `npm run example -- <name> [client args]`: starts every process of examples/<name>, prints their output
// prefixed by role, runs the program that shows the result, then stops them all; exits 0 when every
// process did its part (the client exited 0, each server exited 0 on SIGTERM).
import { type ChildProcess, spawn } from "node:child_process";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { freeEndpoints } from "palm-actors/testing";
import { type ExamplePlan, type Program, plans } from "./plans.js";

const EXAMPLES = fileURLToPath(new URL(".", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const CLIENT_TIMEOUT_MS = 120_000;
const AFTER_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

/** A running program of the example, its output forwarded line by line under its role. */
class Role {
  readonly child: ChildProcess;
  output = "";
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;
  readonly #watchers = new Set<() => void>();

  constructor(
    readonly name: string,
    program: Program,
    env: NodeJS.ProcessEnv,
  ) {
    const [file, ...args] = program;
    this.child = spawn(process.execPath, ["--import", "tsx", `${EXAMPLES}${file}`, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#forward(this.child.stdout!, process.stdout);
    this.#forward(this.child.stderr!, process.stderr);
    this.exited = new Promise((resolve) => {
      this.child.once("close", (code, signal) => {
        this.exit = { code, signal };
        this.#notify();
        resolve();
      });
    });
  }

  #forward(from: NodeJS.ReadableStream, to: NodeJS.WriteStream): void {
    let partial = "";
    from.setEncoding("utf8");
    from.on("data", (chunk: string) => {
      this.output += chunk;
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) to.write(`${this.name} | ${line}\n`);
      this.#notify();
    });
    from.on("end", () => {
      if (partial) to.write(`${this.name} | ${partial}\n`);
    });
  }

  #notify(): void {
    for (const watcher of this.#watchers) watcher();
  }

  /** Resolves once `check()` holds; rejects if the program ends first or after `timeoutMs`. */
  waitFor(what: string, check: () => boolean, timeoutMs: number, mayExit = false): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        this.#watchers.delete(watcher);
        if (error) reject(error);
        else resolve();
      };
      const watcher = () => {
        if (check()) done();
        else if (this.exit && !mayExit)
          done(new Error(`${this.name} exited (${this.exit.code ?? this.exit.signal}) before ${what}`));
      };
      const timer = setTimeout(
        () => done(new Error(`${this.name}: no ${what} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#watchers.add(watcher);
      watcher();
    });
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves with a problem, or undefined if it exited 0. */
  async stop(): Promise<string | undefined> {
    if (this.exit) return `${this.name} ended before it was stopped (${this.exit.code ?? this.exit.signal})`;
    this.child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const graceful = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), STOP_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    if (!graceful) {
      this.child.kill("SIGKILL");
      await this.exited;
      return `${this.name} did not exit within ${STOP_GRACE_MS} ms of SIGTERM`;
    }
    // Read again: `this.exit` was set by the close event while awaiting.
    const exit = this.exit as Role["exit"];
    return exit?.code === 0 ? undefined : `${this.name} exited ${exit?.code ?? exit?.signal} on SIGTERM`;
  }
}

/** The role a program plays: its file name and its arguments up to the first option (`worker w1`, `cli viz`). */
function roleName(program: Program): string {
  const [file, ...args] = program;
  const firstOption = args.findIndex((arg) => arg.startsWith("-"));
  const words = firstOption === -1 ? args : args.slice(0, firstOption);
  return [basename(file).replace(/\.[jt]s$/, ""), ...words].join(" ");
}

/** Free loopback addresses for the plan's address groups and ports, unless the environment sets them. */
async function environment(plan: ExamplePlan): Promise<NodeJS.ProcessEnv> {
  const names: string[] = [];
  for (let group = 1; group <= plan.groups; group++) {
    const suffix = group === 1 ? "" : `_${group}`;
    for (const name of ["PALM_PULL", "PALM_PUB", "PALM_WORKER_PULL", "PALM_WORKER_PUSH", "PALM_DB"])
      names.push(`${name}${suffix}`);
  }
  const extra = Object.entries(plan.ports ?? {});
  const wanted = [...names, ...extra.map(([name]) => name)].filter((name) => !process.env[name]);
  const endpoints = await freeEndpoints(wanted.length);
  const env: NodeJS.ProcessEnv = {};
  wanted.forEach((name, i) => {
    const endpoint = endpoints[i] as string;
    const kind = plan.ports?.[name];
    if (kind === "http") env[name] = endpoint.replace("tcp://", "http://");
    else if (kind === "port") env[name] = endpoint.slice(endpoint.lastIndexOf(":") + 1);
    else env[name] = endpoint;
  });
  return env;
}

async function run(name: string, clientArgs: string[]): Promise<number> {
  const plan = plans[name];
  if (!plan) {
    const width = Math.max(...Object.keys(plans).map((n) => n.length));
    console.error(`Usage: npm run example -- <name>\n\nExamples:`);
    for (const [n, p] of Object.entries(plans)) console.error(`  ${n.padEnd(width)}  ${p.summary}`);
    return name ? 2 : 0;
  }
  console.log(`example ${name}: ${plan.summary}`);
  const env = await environment(plan);
  const servers: Role[] = [];
  const problems: string[] = [];
  const stopAll = async () => {
    const stops = await Promise.all(servers.reverse().map((server) => server.stop()));
    for (const problem of stops) if (problem) problems.push(problem);
  };
  process.once("SIGINT", () => {
    void stopAll().then(() => process.exit(1));
  });
  try {
    for (const stage of plan.stages) {
      const started = stage.map((program) => new Role(roleName(program), program, env));
      servers.push(...started);
      const marker = plan.ready ?? "ready";
      await Promise.all(
        started.map((role) =>
          role.waitFor(
            `"${marker}"`,
            () => role.output.split("\n").some((l) => l.startsWith(marker)),
            READY_TIMEOUT_MS,
          ),
        ),
      );
    }
    const [file, ...args] = plan.client;
    const client = new Role(roleName(plan.client), [file, ...args, ...clientArgs], env);
    await client.waitFor("its end", () => client.exit !== undefined, CLIENT_TIMEOUT_MS, true);
    if (client.exit?.code !== 0)
      problems.push(`${client.name} exited ${client.exit?.code ?? client.exit?.signal}`);
    for (const { role, text, count } of plan.after ?? []) {
      const watched = servers.find((server) => server.name === role);
      if (!watched) throw new Error(`no role "${role}" in example ${name}`);
      await watched.waitFor(
        `${count} × "${text}"`,
        () => watched.output.split(text).length - 1 >= count,
        AFTER_TIMEOUT_MS,
      );
    }
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  await stopAll();
  if (problems.length > 0) {
    console.error(`example ${name} failed:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    return 1;
  }
  console.log(`example ${name}: done, every server stopped cleanly (${servers.length})`);
  return 0;
}

const [name = "", ...clientArgs] = process.argv.slice(2);
process.exitCode = await run(name, clientArgs);
