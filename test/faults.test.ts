// Randomised fault schedules: fast-check draws a schedule of commands (send, crash a part, fail a socket,
// end a part, restart the server), runs it against a real server and a model of what must come out, and
// on a failure shrinks it to a minimal schedule and prints the seed and path that replay it exactly:
//   PALM_FAULT_SEED=<seed> PALM_FAULT_PATH=<path> PALM_FAULT_REPLAY=<replayPath> \
//     node --import tsx --test test/faults.test.ts
// PALM_FAULT_BUDGET sets how many schedules to draw (a few by default, so the suite stays quick).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import * as zmq from "zeromq";
import { PullService } from "../actors/services/pullService.js";
import { PushService } from "../actors/services/pushService.js";
import { createMessage } from "../src/message.js";
import { ServerTemplate } from "../src/serverTemplate.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { until } from "../src/testing/until.js";

const BUDGET = Number(process.env.PALM_FAULT_BUDGET) || 4;
const SEED = process.env.PALM_FAULT_SEED === undefined ? undefined : Number(process.env.PALM_FAULT_SEED);
const PATH = process.env.PALM_FAULT_PATH;
/** fast-check's `replayPath` of the shrunk schedule (printed with the counterexample). */
const REPLAY = process.env.PALM_FAULT_REPLAY;
const TIMEOUT_MS = 10_000;
const PARTS = ["Pull", "Push"] as const;
type Part = (typeof PARTS)[number];

/** What must come out: every message sent arrives once; each part was restarted as often as it was hit. */
interface Model {
  sent: string[];
  restarts: Record<Part, number>;
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
    assert.equal(real.server![this.how](this.part), true, `${this.how}(${this.part}) found the part running`);
    model.restarts[this.part]++;
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
async function check(
  property: fc.IAsyncProperty<[Iterable<fc.AsyncCommand<Model, Real>>]>,
  parameters: fc.Parameters<[Iterable<fc.AsyncCommand<Model, Real>>]>,
) {
  try {
    await fc.assert(property, parameters);
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error) (error as Error).message += `\nFailure: ${cause.message}`;
    throw error;
  }
}

describe("randomised fault schedules", () => {
  it("a Pull → Push server loses and duplicates nothing under any schedule of crashes, socket failures, exits and restarts", async (t) => {
    let schedules = 0;
    await check(
      fc.asyncProperty(
        fc.commands(commands, { maxCommands: 12, ...(REPLAY ? { replayPath: REPLAY } : {}) }),
        async (schedule) => {
          schedules++;
          const [pull, push] = await freeEndpoints(2);
          const real = new Real(pull!, push!);
          const model: Model = { sent: [], restarts: { Pull: 0, Push: 0 } };
          try {
            await real.open();
            await fc.asyncModelRun(() => ({ model, real }), schedule);
            await real.settled(model.sent);
            const duplicated = [...real.arrived].filter(([, n]) => n > 1).map(([tag]) => tag);
            assert.deepEqual(duplicated, [], "duplicated");
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
