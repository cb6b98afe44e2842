// Randomised fault schedules: fast-check draws a schedule of commands (send, crash a part, fail a socket,
// end a part, restart the server), runs it against a real server and a model of what must come out, and
// on a failure shrinks it to a minimal schedule and prints the seed and path that replay it exactly:
//   PALM_FAULT_SEED=<seed> PALM_FAULT_PATH=<path> PALM_FAULT_REPLAY=<replayPath> \
//     node --import tsx --test test/faults.test.ts
// PALM_FAULT_BUDGET sets how many schedules to draw (a few by default, so the suite stays quick); the
// schedules with worker processes draw a quarter as many (each starts processes).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import * as zmq from "zeromq";
import { Client } from "../actors/client.js";
import { Master } from "../actors/servers/master.js";
import { PullService } from "../actors/services/pullService.js";
import { PushService } from "../actors/services/pushService.js";
import { createMessage } from "../src/message.js";
import { ServerTemplate } from "../src/serverTemplate.js";
import { collectJob, taggedPayloads } from "../src/testing/collectJob.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { until } from "../src/testing/until.js";
import { type FixtureProcess, startFixture } from "./fixtures/jsonProcess.js";

const BUDGET = Number(process.env.PALM_FAULT_BUDGET) || 4;
const SEED = process.env.PALM_FAULT_SEED === undefined ? undefined : Number(process.env.PALM_FAULT_SEED);
const PATH = process.env.PALM_FAULT_PATH;
/** fast-check's `replayPath` of the shrunk schedule (printed with the counterexample). */
const REPLAY = process.env.PALM_FAULT_REPLAY;
const TIMEOUT_MS = 10_000;
const PARTS = ["Pull", "Push"] as const;
type Part = (typeof PARTS)[number];

/**
 * What must come out: every message sent arrives; each part was restarted as often as it was hit. A plain
 * server is at-least-once across restarts of its outbound part (what it handed its socket but had not
 * seen sent is sent again by the next instance: "a part restart loses no message"); only a Master's ledger
 * suppresses the duplicates. So a message may arrive once more per hit on Push, and never otherwise.
 */
interface Model {
  sent: string[];
  restarts: Record<Part, number>;
  pushHits: number;
}

/** The real system: a Pull → Push server, the test's PUSH peer feeding it and PULL peer reading it. */
class Real {
  server: ServerTemplate | undefined;
  readonly arrived = new Map<string, number>();
  readonly #feed = new zmq.Push({ linger: 0 });
  readonly #sink = new zmq.Pull({ linger: 0 });
  #reading: Promise<void> | undefined;
  #tags = 0;
  readonly log: string[] = [];

  constructor(
    readonly pull: string,
    readonly push: string,
  ) {}

  async open(): Promise<void> {
    this.#feed.connect(this.pull);
    this.#sink.connect(this.push);
    const sink = this.#sink;
    this.#reading = (async () => {
      for await (const [frame] of sink) {
        for (const m of this.codec().decode(frame!)) {
          const tag = Buffer.from(m.payload).toString();
          this.arrived.set(tag, (this.arrived.get(tag) ?? 0) + 1);
        }
      }
    })().catch(() => undefined);
    await this.startServer();
  }

  codec() {
    return this.server!.codec;
  }

  async startServer(): Promise<void> {
    const server = new ServerTemplate({
      name: "faults",
      logLevel: "silent",
      supervision: { maxRestarts: 1000, backoff: { minMs: 1, maxMs: 5, resetAfterMs: 10 } },
    });
    server.registerInbound(PullService, "Pull", this.pull, { route: "Push" });
    server.registerOutbound(PushService, "Push", this.push);
    this.server = server;
    await server.start();
  }

  async send(count: number): Promise<string[]> {
    const tags: string[] = [];
    for (let i = 0; i < count; i++) {
      const tag = `m${++this.#tags}`;
      tags.push(tag);
      await this.#feed.send(
        this.codec().encodeOne(createMessage({ function: "faults.f", payload: Buffer.from(tag) })),
      );
    }
    return tags;
  }

  async settled(sent: readonly string[]): Promise<void> {
    await until(
      () => (sent.every((tag) => this.arrived.has(tag)) ? true : undefined),
      TIMEOUT_MS,
      () => `waiting for ${sent.filter((tag) => !this.arrived.has(tag)).length} message(s) to arrive`,
    );
  }

  async restarted(part: Part, restarts: number): Promise<void> {
    await until(
      () => {
        const row = this.server!.parts().find((p) => p.name === part)!;
        return row.restarts === restarts && row.status === "ready" ? true : undefined;
      },
      TIMEOUT_MS,
      () => `waiting for ${part} to be restarted ${restarts} time(s)`,
    );
  }

  async close(): Promise<void> {
    await this.server?.stop();
    this.#feed.close();
    this.#sink.close();
    await this.#reading;
  }
}

class Send implements fc.AsyncCommand<Model, Real> {
  constructor(readonly count: number) {}
  check = () => true;
  async run(model: Model, real: Real) {
    model.sent.push(...(await real.send(this.count)));
  }
  toString = () => `send(${this.count})`;
}

/** Crash, fail the socket of, or end a part (a permanent one: the router restarts it each time). */
class Hit implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly how: "crash" | "failSocket" | "exitPart",
    readonly part: Part,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    // A PULL socket that fails takes its unread queue with it (documented: what libzmq queued in a failed
    // socket peers send to is lost), as a server restart does: fail it once what was sent has arrived.
    if (this.how === "failSocket" && this.part === "Pull") await real.settled(model.sent);
    assert.equal(real.server![this.how](this.part), true, `${this.how}(${this.part}) found the part running`);
    model.restarts[this.part]++;
    if (this.part === "Push") model.pushHits++;
    await real.restarted(this.part, model.restarts[this.part]);
  }
  toString = () => `${this.how}(${this.part})`;
}

/** Stops the server (once what was sent arrived: a PULL's unread queue goes with it) and starts it again. */
class RestartServer implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(model: Model, real: Real) {
    await real.settled(model.sent);
    await real.server!.stop();
    await real.startServer();
    model.restarts = { Pull: 0, Push: 0 };
  }
  toString = () => "restartServer()";
}

const commands = [
  fc.integer({ min: 1, max: 50 }).map((n) => new Send(n)),
  fc
    .tuple(
      fc.constantFrom("crash", "failSocket", "exitPart") as fc.Arbitrary<Hit["how"]>,
      fc.constantFrom(...PARTS),
    )
    .map(([how, part]) => new Hit(how, part)),
  fc.constant(new RestartServer()),
];

/** `fc.assert`, with the failure of the shrunk schedule in the message (fast-check keeps it as the cause). */
async function check<T>(property: fc.IAsyncProperty<[T]>, parameters: fc.Parameters<[T]>) {
  try {
    await fc.assert(property, parameters);
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error) (error as Error).message += `\nFailure: ${cause.message}`;
    throw error;
  }
}

describe("randomised fault schedules", () => {
  it("a Pull → Push server loses nothing under any schedule of crashes, socket failures, exits and restarts, and repeats only what a restarted Push held", async (t) => {
    let schedules = 0;
    await check(
      fc.asyncProperty(
        fc.commands(commands, { maxCommands: 12, ...(REPLAY ? { replayPath: REPLAY } : {}) }),
        async (schedule) => {
          schedules++;
          const [pull, push] = await freeEndpoints(2);
          const real = new Real(pull!, push!);
          const model: Model = { sent: [], restarts: { Pull: 0, Push: 0 }, pushHits: 0 };
          try {
            await real.open();
            await fc.asyncModelRun(() => ({ model, real }), schedule);
            await real.settled(model.sent);
            const tooMany = [...real.arrived].filter(([, n]) => n > 1 + model.pushHits).map(([tag]) => tag);
            assert.deepEqual(tooMany, [], `arrived more than ${1 + model.pushHits} time(s)`);
            assert.equal(real.arrived.size, model.sent.length);
            for (const part of PARTS) {
              assert.equal(
                real.server!.parts().find((p) => p.name === part)!.restarts,
                model.restarts[part],
                part,
              );
            }
          } finally {
            await real.close();
          }
        },
      ),
      { numRuns: BUDGET, ...(SEED === undefined ? {} : { seed: SEED }), ...(PATH ? { path: PATH } : {}) },
    );
    t.diagnostic(`${schedules} schedules run (PALM_FAULT_BUDGET=${BUDGET})`);
  });
});

const MASTER_PARTS = ["Pull", "WorkerPush", "WorkerPull", "Pub"] as const;
type MasterPart = (typeof MASTER_PARTS)[number];

/** A Master in this process, palm workers in their own processes, and a client running one job. */
interface Cluster {
  readonly master: Master;
  readonly client: Client;
  readonly workers: FixtureProcess[];
  readonly dbAddress: string;
  spawned: number;
}

/** `promise`, or a rejection naming `what` after `TIMEOUT_MS`. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${TIMEOUT_MS} ms ${what}`)), TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function startWorker(cluster: Cluster): Promise<void> {
  const name = `w${++cluster.spawned}`;
  const joined = new Promise<void>((resolve) => {
    const off = cluster.master.on("worker.joined", (event) => {
      if (event.worker.name === name) {
        off();
        resolve();
      }
    });
  });
  const worker = startFixture("workerProcess.ts", { name, dbAddress: cluster.dbAddress }, { name });
  cluster.workers.push(worker);
  await worker.waitFor((line) => line.event === "ready", TIMEOUT_MS);
  await within(joined, `waiting for worker ${name} to join`);
}

/** What must come out: every payload of the job answered once; each master part restarted as often as hit. */
interface ClusterModel {
  restarts: Record<MasterPart, number>;
  alive: number;
}

class HitMaster implements fc.AsyncCommand<ClusterModel, Cluster> {
  constructor(
    readonly how: "crash" | "failSocket",
    readonly part: MasterPart,
  ) {}
  check = () => true;
  async run(model: ClusterModel, cluster: Cluster) {
    assert.equal(
      cluster.master[this.how](this.part),
      true,
      `${this.how}(${this.part}) found the part running`,
    );
    model.restarts[this.part]++;
    await until(
      () => {
        const row = cluster.master.parts().find((p) => p.name === this.part)!;
        return row.restarts === model.restarts[this.part] && row.status === "ready" ? true : undefined;
      },
      TIMEOUT_MS,
      () => `waiting for ${this.part} to be restarted`,
    );
  }
  toString = () => `${this.how}(${this.part})`;
}

/** kill -9 a worker process (there is always another), then start a new one. */
class KillWorker implements fc.AsyncCommand<ClusterModel, Cluster> {
  check = (model: Readonly<ClusterModel>) => model.alive > 1;
  async run(model: ClusterModel, cluster: Cluster) {
    const victim = cluster.workers.shift()!;
    await victim.kill("SIGKILL");
    model.alive--;
    await startWorker(cluster);
    model.alive++;
  }
  toString = () => "killWorker()";
}

/**
 * Cuts a worker off (SIGSTOP: no results, no heartbeats) until the master declares it lost, then lets it go
 * on and waits until the master counts it alive again (so a second cut finds it alive, not still lost).
 */
class CutWorkerLink implements fc.AsyncCommand<ClusterModel, Cluster> {
  check = (model: Readonly<ClusterModel>) => model.alive > 1;
  async run(_model: ClusterModel, cluster: Cluster) {
    const worker = cluster.workers[0]!;
    const heard = (type: "worker.lost" | "worker.joined") =>
      new Promise<void>((resolve) => {
        const off = cluster.master.on(type, (event) => {
          if (event.worker.pid !== worker.pid) return;
          off();
          resolve();
        });
      });
    const lost = heard("worker.lost");
    process.kill(worker.pid, "SIGSTOP");
    let back: Promise<void> | undefined;
    try {
      await within(lost, "waiting for the master to declare a stopped worker lost");
      back = heard("worker.joined");
    } finally {
      process.kill(worker.pid, "SIGCONT");
    }
    await within(back, "waiting for a worker let go on to be counted alive again");
  }
  toString = () => "cutWorkerLink()";
}

const clusterCommands = [
  fc.constantFrom(...MASTER_PARTS).map((part) => new HitMaster("crash", part)),
  // Not the Pub: results published while the client's SUB was not subscribed again are lost, so a job
  // stalls (schedule [failSocket(Pub), cutWorkerLink()]; see docs/testing-restarts.md).
  fc
    .constantFrom<MasterPart>("Pull", "WorkerPush", "WorkerPull")
    .map((part) => new HitMaster("failSocket", part)),
  fc.constant(new KillWorker()),
  fc.constant(new CutWorkerLink()),
];

describe("randomised fault schedules with worker processes", () => {
  it("a Master answers every message of a job once while its parts fail and its workers are killed or cut off", async (t) => {
    let schedules = 0;
    await check(
      fc.asyncProperty(
        fc.commands(clusterCommands, { maxCommands: 4, ...(REPLAY ? { replayPath: REPLAY } : {}) }),
        async (schedule) => {
          schedules++;
          const [pullAddress, pubAddress, workerPullAddress, workerPushAddress, dbAddress] =
            await freeEndpoints(5);
          const master = new Master({
            name: "server",
            pullAddress: pullAddress!,
            pubAddress: pubAddress!,
            workerPullAddress: workerPullAddress!,
            workerPushAddress: workerPushAddress!,
            dbAddress: dbAddress!,
            logLevel: "silent",
            supervision: { maxRestarts: 1000, backoff: { minMs: 1, maxMs: 5, resetAfterMs: 10 } },
          });
          const client = new Client({ serverName: "server", dbAddress: dbAddress!, logLevel: "silent" });
          const cluster: Cluster = { master, client, workers: [], dbAddress: dbAddress!, spawned: 0 };
          const model: ClusterModel = {
            restarts: { Pull: 0, WorkerPush: 0, WorkerPull: 0, Pub: 0 },
            alive: 2,
          };
          try {
            await master.start();
            await startWorker(cluster);
            await startWorker(cluster);
            await client.start();
            const job = collectJob(client, "server.echo", taggedPayloads(2000), { idleTimeoutMs: 20_000 });
            await fc.asyncModelRun(() => ({ model, real: cluster }), schedule);
            const report = await job;
            assert.equal(report.incomplete, false, String(report.failure));
            assert.deepEqual(report.lost, [], "lost");
            assert.deepEqual(report.duplicated, [], "duplicated");
            assert.deepEqual(report.errors, [], "errors");
            for (const part of MASTER_PARTS)
              assert.equal(master.parts().find((p) => p.name === part)!.restarts, model.restarts[part], part);
          } finally {
            await client.stop();
            for (const worker of cluster.workers) await worker.kill();
            await master.stop();
          }
        },
      ),
      {
        numRuns: Math.max(1, Math.round(BUDGET / 4)),
        ...(SEED === undefined ? {} : { seed: SEED }),
        ...(PATH ? { path: PATH } : {}),
      },
    );
    t.diagnostic(`${schedules} schedules run`);
  });
});
