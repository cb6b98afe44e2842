import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReqConnection } from "../actors/connections/reqConnection.js";
import { PullService } from "../actors/services/pullService.js";
import { PushService } from "../actors/services/pushService.js";
import { RepService } from "../actors/services/repService.js";
import { machines } from "../machines/index.js";
import { ServerTemplate } from "../src/serverTemplate.js";
import { partModel } from "../src/testing/partModel.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { type ServerModelReport, testServerModel } from "../src/testing/testServerModel.js";

/**
 * Every path went as the model says, every state was covered, and every transition but those a real
 * server cannot take (exactly `unreachable`, per part).
 */
function checkReport(
  t: { diagnostic(message: string): void },
  report: ServerModelReport,
  unreachable: Record<string, string[]>,
  /** Transitions a part's own provision switches off (a PushService does not heartbeat as a publisher does). */
  switchedOff: Record<string, string[]> = {},
): void {
  for (const line of report.summary().split("\n")) t.diagnostic(line);
  assert.deepEqual(
    report.parts.flatMap((p) => p.failures),
    [],
  );
  for (const part of report.parts) {
    assert.deepEqual(part.states.missing, [], `${part.part}: states`);
    assert.deepEqual([...part.unreachable].sort(), unreachable[part.part], `${part.part}: unreachable`);
    assert.deepEqual(
      [...part.transitions.missing].sort(),
      [...(unreachable[part.part] ?? []), ...(switchedOff[part.part] ?? [])].sort(),
      `${part.part}: transitions`,
    );
  }
}

/** Machines that are not parts, each driven by a test of its own. */
const OWN_TESTS = new Set([
  "router",
  "delivery",
  "masterWatch",
  "workerJoin",
  "earliestDeadline",
  "greetWait",
]);

describe("generated path tests", () => {
  it("covers every state and transition of every part machine in the model", (t) => {
    const lines: string[] = [];
    for (const [name, machine] of Object.entries(machines)) {
      // The router is the supervisor, not a part; the delivery machine (a Master's ledger) takes worker news,
      // not a socket's events: test/delivery.test.ts drives it event by event on a simulated clock, as
      // test/masterWatch.test.ts, test/workerJoin.test.ts, test/earliestDeadline.test.ts and
      // test/greetWait.test.ts do a worker's master watch and join, an HTTP gateway's deadline timer and a
      // subscriber's wait for its publisher's greeting.
      if (OWN_TESTS.has(name)) continue;
      // A publisher's outbound part says it is alive on a timer; the model explores that variant.
      const model = partModel(
        name === "outboundPart"
          ? machine.provide({ guards: { heartbeats: () => true }, delays: { heartbeat: 1000 } })
          : machine,
      );
      const missing = model.transitions.map((tr) => tr.id).filter((id) => !model.coveredTransitions.has(id));
      const missingStates = model.states.filter((s) => !model.coveredStates.has(s));
      assert.deepEqual([name, missingStates, missing], [name, [], []]);
      lines.push(
        `${name}: states ${model.states.length}/${model.states.length}, transitions ${model.transitions.length}/${model.transitions.length}, ${model.paths.length} paths`,
      );
    }
    t.diagnostic(lines.join("; "));
  });

  it("runs every path of a PullService and a PushService on real sockets, as the model says", async (t) => {
    const [pull, push] = await freeEndpoints(2);
    const report = await testServerModel((probe) => {
      const server = new ServerTemplate({
        name: "model",
        logger: probe.logger,
        supervision: { maxRestarts: 100, backoff: { minMs: 1, maxMs: 5 } },
      });
      server.registerInbound(PullService, "Pull", pull!, { route: "Push" });
      server.registerOutbound(PushService, "Push", push!);
      return server;
    });
    checkReport(
      t,
      report,
      {
        Pull: [],
        // A PUSH never receives, so neither a bad frame nor what a two-way part (a Dispatch ROUTER) passes on.
        // The router hands an outbound part one delivery only while it is idle and holds the rest until its
        // send completes, then hands them over as one `part.deliverAll` (test/machines.test.ts drives that
        // on fake bridges): so no delivery reaches it while sending, its queue is empty when a send
        // completes, and the test, which causes deliveries one by one, never causes a `part.deliverAll`.
        Push: [
          "running.connecting|part.ready|0",
          "running.connecting|part.ready|1",
          "running|part.badFrame|0",
          "running|part.received|0",
          "running|part.deliver|0",
          "running|part.deliver|1",
          "running.sending|part.sent|0",
          "running.sending|part.sent|1",
          "running|part.deliverAll|0",
          "running|part.deliverAll|1",
          "running.idle|part.deliverAll|0",
        ].sort(),
      },
      { Push: ["running|part.heartbeat|0"] },
    );
  });

  it("runs every path of a RepService and the ReqConnection it waits on, on real sockets, as the model says", async (t) => {
    const [rep, req] = await freeEndpoints(2);
    const report = await testServerModel((probe) => {
      const server = new ServerTemplate({
        name: "model",
        logger: probe.logger,
        supervision: { maxRestarts: 100, backoff: { minMs: 1, maxMs: 5 } },
      });
      server.registerInbound(RepService, "Rep", rep!, { route: "Req", block: true });
      server.registerOutbound(ReqConnection, "Req", req!);
      return server;
    });
    checkReport(t, report, {
      Rep: [],
      Req: ["running.connecting|part.ready|0", "running|part.badFrame|0"],
    });
  });
});
