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
      unreachable[part.part],
      `${part.part}: transitions`,
    );
  }
}

describe("generated path tests", () => {
  it("covers every state and transition of every part machine in the model", (t) => {
    const lines: string[] = [];
    for (const [name, machine] of Object.entries(machines)) {
      if (name === "router") continue;
      const model = partModel(machine);
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
    checkReport(t, report, {
      Pull: [],
      Push: ["running.connecting|part.ready|0", "running.connecting|part.ready|1", "running|part.badFrame|0"],
    });
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
