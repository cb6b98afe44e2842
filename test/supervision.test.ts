import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import * as zmq from "zeromq";
import { ReqConnection } from "../actors/connections/reqConnection.js";
import { PushService } from "../actors/services/pushService.js";
import { RepService } from "../actors/services/repService.js";
import { msgpackCodec } from "../src/codec/index.js";
import { isPalmError, type PalmError } from "../src/errors.js";
import { createMessage } from "../src/message.js";
import { ServerTemplate } from "../src/serverTemplate.js";
import { addressReleased } from "../src/sockets/addressReleased.js";
import type { SupervisionOptions } from "../src/supervisionOptions.js";
import {
  collectJob,
  crashRepeatedly,
  freeEndpoints,
  type MasterCluster,
  pacePayloads,
  partInfo,
  startMaster,
  taggedPayloads,
  waitForRestarts,
  waitForState,
} from "../src/testing/index.js";

/** Fast restarts: a part ready for 10 ms counts as stable, so each crash waits the 1 ms minimum again. */
const FAST: SupervisionOptions = {
  maxRestarts: 1000,
  withinMs: 60_000,
  backoff: { minMs: 1, maxMs: 20, resetAfterMs: 10 },
};

/** Runs `body` with a started cluster and always stops it. */
async function withMaster(
  options: Parameters<typeof startMaster>[0],
  body: (cluster: MasterCluster) => Promise<void>,
): Promise<void> {
  const cluster = await startMaster(options);
  try {
    await body(cluster);
  } finally {
    await cluster.stop();
  }
}

/** Binds a raw zeromq socket to each address (proving nothing holds it), then closes them all. */
async function bindAll(addresses: readonly string[]): Promise<void> {
  const sockets = addresses.map(() => new zmq.Pull({ linger: 0 }));
  try {
    for (let i = 0; i < addresses.length; i++) await sockets[i]!.bind(addresses[i]!);
  } finally {
    for (const socket of sockets) socket.close();
  }
}

async function bindFails(address: string): Promise<string | undefined> {
  const socket = new zmq.Pull({ linger: 0 });
  try {
    await socket.bind(address);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  } finally {
    socket.close();
  }
}

describe("supervised restarts under load (a Master, two Workers and a Client in one process)", () => {
  it("loses and duplicates nothing while WorkerPush is crashed 50 times during a 10,000-message job", async (t) => {
    await withMaster({ workers: 2, supervision: FAST }, async ({ master, client }) => {
      let crashes = 0;
      const job = collectJob(
        client,
        "server.echo",
        pacePayloads(taggedPayloads(10_000), 50, () => crashes),
        { idleTimeoutMs: 20_000 },
      );
      const report = await crashRepeatedly(master, "WorkerPush", {
        times: 50,
        intervalMs: 15,
        onCrash: (count) => {
          crashes = count;
        },
      });
      const { results, lost, duplicated, errors, incomplete } = await job;
      assert.equal(incomplete, false);
      assert.equal(results.length, 10_000);
      assert.deepEqual(lost, []);
      assert.deepEqual(duplicated, []);
      assert.deepEqual(errors, []);
      assert.equal(report.crashes, 50);
      const info = partInfo(master, "WorkerPush");
      assert.equal(info.restarts, 50);
      assert.equal(info.pending, 0);
      for (const other of ["Cache", "Pull", "WorkerPull", "Pub"])
        assert.equal(partInfo(master, other).restarts, 0);
      t.diagnostic(
        `WorkerPush crash-to-ready under load: median ${report.medianRecoveryMs.toFixed(2)} ms over 50 crashes`,
      );
    });
  });

  it("loses no client message while Pull is crashed 20 times: its kept socket queues what arrives meanwhile", async (t) => {
    await withMaster({ workers: 2, supervision: FAST }, async ({ master, client }) => {
      let crashes = 0;
      const job = collectJob(
        client,
        "server.echo",
        pacePayloads(taggedPayloads(10_000), 20, () => crashes),
        { idleTimeoutMs: 20_000 },
      );
      const report = await crashRepeatedly(master, "Pull", {
        times: 20,
        intervalMs: 15,
        onCrash: (count) => {
          crashes = count;
        },
      });
      const { results, lost, duplicated } = await job;
      assert.equal(results.length, 10_000);
      assert.deepEqual(lost, []);
      assert.deepEqual(duplicated, []);
      assert.equal(partInfo(master, "Pull").restarts, 20);
      t.diagnostic(
        `Pull crash-to-ready under load: median ${report.medianRecoveryMs.toFixed(2)} ms over 20 crashes`,
      );
    });
  });

  it("measures the median time from crash() to the part being ready again", async (t) => {
    await withMaster({ workers: 1, supervision: FAST }, async ({ master, client }) => {
      const medians: string[] = [];
      for (const part of ["Pull", "WorkerPush", "WorkerPull", "Pub", "Cache"]) {
        const report = await crashRepeatedly(master, part, { times: 30, intervalMs: 12 });
        assert.equal(report.recoveryMs.length, 30);
        medians.push(`${part} ${report.medianRecoveryMs.toFixed(2)} ms`);
      }
      t.diagnostic(`median crash-to-ready, idle, backoff minMs 1: ${medians.join(", ")}`);
      assert.deepEqual(
        Buffer.from(await client.eval("server.echo", Buffer.from("still here"))).toString(),
        "still here",
      );
    });
  });
});

describe("supervision strategies and restart types on real servers", () => {
  it("one-for-all restarts every part of the master, and it serves again", async () => {
    await withMaster(
      { workers: 1, supervision: { ...FAST, strategy: "one-for-all" } },
      async ({ master, client }) => {
        master.crash("Pub");
        for (const part of ["Cache", "Pull", "WorkerPush", "WorkerPull", "Pub"]) {
          const info = await waitForRestarts(master, part, 1);
          assert.equal(info.restarts, 1, part);
        }
        const { results, lost } = await collectJob(client, "server.echo", taggedPayloads(200));
        assert.equal(results.length, 200);
        assert.deepEqual(lost, []);
      },
    );
  });

  it("rest-for-one restarts the crashed part and the parts registered after it", async () => {
    await withMaster(
      { workers: 1, supervision: { ...FAST, strategy: "rest-for-one" } },
      async ({ master, client }) => {
        // A master registers Cache, Pull, Delivery, Dispatch, WorkerPush, WorkerPull, Streams, Pub, in that order.
        master.crash("WorkerPush");
        for (const part of ["WorkerPush", "WorkerPull", "Streams", "Pub"])
          await waitForRestarts(master, part, 1);
        assert.deepEqual(
          master.parts().map((p) => [p.name, p.restarts]),
          [
            ["Cache", 0],
            ["Pull", 0],
            ["Delivery", 0],
            ["Dispatch", 0],
            ["WorkerPush", 1],
            ["WorkerPull", 1],
            ["Streams", 1],
            ["Pub", 1],
          ],
        );
        assert.equal(Buffer.from(await client.eval("server.echo", Buffer.from("x"))).toString(), "x");
      },
    );
  });

  it("never restarts a temporary part; restarts a transient part only after an abnormal exit", async () => {
    const addresses = await freeEndpoints(4);
    const server = new ServerTemplate({ name: "types", logLevel: "silent", supervision: FAST });
    server.registerOutbound(PushService, "Temporary", addresses[0]!, { restart: "temporary" });
    server.registerOutbound(PushService, "TransientExit", addresses[1]!, { restart: "transient" });
    server.registerOutbound(PushService, "TransientCrash", addresses[2]!, { restart: "transient" });
    server.registerOutbound(PushService, "PermanentExit", addresses[3]!, { restart: "permanent" });
    const events: string[] = [];
    server.on("*", (event) => {
      if ("part" in event) events.push(`${event.type} ${event.part}`);
    });
    await server.start();
    try {
      assert.equal(server.crash("Temporary"), true);
      assert.equal(server.exitPart("TransientExit"), true);
      server.crash("TransientCrash");
      server.exitPart("PermanentExit");
      await waitForState(server, "Temporary", "stopped");
      await waitForState(server, "TransientExit", "stopped");
      await waitForRestarts(server, "TransientCrash", 1);
      await waitForRestarts(server, "PermanentExit", 1);
      assert.deepEqual(
        server.parts().map((p) => [p.name, p.status, p.restarts]),
        [
          ["Temporary", "stopped", 0],
          ["TransientExit", "stopped", 0],
          ["TransientCrash", "ready", 1],
          ["PermanentExit", "ready", 1],
        ],
      );
      assert.equal(server.crash("Temporary"), false, "a stopped part has nothing to crash");
      // A part stopped for good gives its address back (once libzmq has closed the listener); the
      // restarted ones hold theirs.
      await Promise.all([addressReleased(addresses[0]!), addressReleased(addresses[1]!)]);
      await bindAll([addresses[0]!, addresses[1]!]);
      assert.equal(await bindFails(addresses[2]!), "EADDRINUSE");
      assert.ok(events.includes("part.failed Temporary"));
      assert.ok(events.includes("part.exited TransientExit"));
      assert.ok(events.includes("part.restarted PermanentExit"));
    } finally {
      await server.stop();
    }
  });
});

describe("sockets across restarts", () => {
  it("re-binds a service's address after its socket fails, and the client goes on", async () => {
    await withMaster({ workers: 1, supervision: FAST }, async ({ master, client, addresses }) => {
      for (const part of ["Pull", "WorkerPush"]) {
        master.failSocket(part);
        const info = await waitForRestarts(master, part, 1);
        assert.equal(info.address, part === "Pull" ? addresses.pullAddress : addresses.workerPushAddress);
        assert.equal(await bindFails(info.address), "EADDRINUSE", `${part} holds its address again`);
      }
      const { results, lost } = await collectJob(client, "server.echo", taggedPayloads(500));
      assert.equal(results.length, 500);
      assert.deepEqual(lost, []);
    });
  });

  it("loses no call when the socket clients push to fails with messages queued in it", async () => {
    // A slow worker and a small in-flight cap: the Master stops reading, so the client's messages wait in
    // its PULL socket, and go with it when it fails. Its clients hear of a new server instance and send
    // again what it has not answered; what they already have is dropped.
    const slow = async (payload: Uint8Array) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      return payload;
    };
    await withMaster(
      { workers: 1, functions: { echo: slow }, supervision: FAST, master: { maxInFlight: 20 } },
      async ({ master, client }) => {
        let failed = false;
        const report = await collectJob(client, "server.echo", taggedPayloads(600), {
          idleTimeoutMs: 20_000,
          onResult: (received) => {
            if (received !== 50 || failed) return;
            failed = master.failSocket("Pull");
          },
        });
        assert.equal(failed, true, "the Pull part was running when its socket was failed");
        assert.equal(report.incomplete, false, String(report.failure));
        assert.deepEqual(
          { lost: report.lost, duplicated: report.duplicated, errors: report.errors.length },
          { lost: [], duplicated: [], errors: 0 },
        );
        assert.equal(report.results.length, 600);
        assert.ok(client.resentMessages > 0, "the client sent again what the failed socket held");
        assert.equal(partInfo(master, "Pull").restarts, 1);
      },
    );
  });

  it("answers a request a crashed RepService owed with an error, then serves the next one", async () => {
    const [repAddress, upstream] = await freeEndpoints(2);
    // The external service the ReqConnection asks: it answers only when the test lets it.
    const backend = new zmq.Reply({ linger: 0 });
    await backend.bind(upstream!);
    const server = new ServerTemplate({ name: "rep", logLevel: "silent", supervision: FAST });
    server.registerInbound(RepService, "Rep", repAddress!, { route: "Req", block: true });
    server.registerOutbound(ReqConnection, "Req", upstream!);
    await server.start();
    const peer = new zmq.Request({ linger: 0 });
    peer.connect(repAddress!);
    try {
      const ask = async (tag: string) => {
        await peer.send(
          msgpackCodec.encodeOne(createMessage({ function: "rep.f", payload: Buffer.from(tag) })),
        );
        const [frame] = await peer.receive();
        return msgpackCodec.decode(frame!)[0]!;
      };
      const first = ask("q1");
      const [request] = await backend.receive();
      server.crash("Rep");
      const answer = await first;
      assert.match(answer.error ?? "", /restarted/);
      // The backend's late answer to q1 must not become the answer to q2.
      await backend.send(request!);
      await waitForRestarts(server, "Rep", 1);
      const second = ask("q2");
      const [request2] = await backend.receive();
      await backend.send(request2!);
      const reply = await second;
      assert.equal(reply.error, undefined);
      assert.equal(Buffer.from(reply.payload).toString(), "q2");
    } finally {
      peer.close();
      backend.close();
      await server.stop();
    }
  });
});

describe("escalation", () => {
  it("escalates past the restart intensity: every part stopped, every socket closed, failed resolves", async () => {
    const cluster = await startMaster({
      workers: 1,
      client: false,
      supervision: { maxRestarts: 3, withinMs: 60_000, backoff: { minMs: 1, maxMs: 5 } },
    });
    const { master, addresses } = cluster;
    try {
      let escalated: { part: string; error: unknown } | undefined;
      master.on("server.escalated", (event) => {
        escalated = event;
      });
      await crashRepeatedly(master, "WorkerPush", { times: 3 });
      assert.equal(partInfo(master, "WorkerPush").restarts, 3);
      master.crash("WorkerPush");
      const failure: PalmError = await master.failed;
      assert.equal(failure.code, "PALM_ERR_SUPERVISOR_ESCALATED");
      assert.match(failure.message, /WorkerPush/);
      assert.ok(escalated, "server.escalated was emitted");
      assert.equal(escalated.part, "WorkerPush");
      assert.equal((escalated.error as Error).cause instanceof Error, true);
      assert.deepEqual(
        master.parts().map((p) => p.state),
        ["stopped", "stopped", "stopped", "stopped", "stopped", "stopped", "stopped", "stopped"],
      );
      await bindAll(Object.values(addresses));
    } finally {
      await cluster.stop();
    }
  });

  it("rejects start() when a part fails before it was ever ready", async () => {
    const [held, free] = await freeEndpoints(2);
    // The address is taken, so the part stays `connecting` (retrying its bind) long enough to crash it.
    const squatter = new zmq.Pull({ linger: 0 });
    await squatter.bind(held!);
    const server = new ServerTemplate({ name: "early", logLevel: "silent" });
    server.registerOutbound(PushService, "Late", held!);
    server.registerOutbound(PushService, "Early", free!);
    const starting = server.start();
    try {
      await waitForState(server, "Late", "running.connecting");
      server.crash("Late");
      await assert.rejects(starting, (error) => {
        assert.ok(isPalmError(error, "PALM_ERR_SUPERVISOR_ESCALATED"));
        assert.match(error.message, /"Late".*could not start/);
        assert.ok(isPalmError(error.cause, "PALM_ERR_PART_CRASHED"));
        return true;
      });
      assert.equal((await server.failed).code, "PALM_ERR_SUPERVISOR_ESCALATED");
      await bindAll([free!]);
    } finally {
      squatter.close();
      await server.stop();
    }
  });

  it("rejects start() when a part cannot bind, closing the sockets the other parts opened", async () => {
    const [pull, pub, workerPull, workerPush, db] = await freeEndpoints(5);
    const squatter = new zmq.Pull({ linger: 0 });
    await squatter.bind(pub!);
    const { Master } = await import("../actors/servers/master.js");
    const master = new Master({
      name: "server",
      pullAddress: pull!,
      pubAddress: pub!,
      workerPullAddress: workerPull!,
      workerPushAddress: workerPush!,
      dbAddress: db!,
      logLevel: "silent",
    });
    try {
      await assert.rejects(master.start(), (error) => isPalmError(error, "PALM_ERR_PART_SOCKET"));
      const failure = await master.failed;
      assert.equal(failure.code, "PALM_ERR_PART_SOCKET");
      assert.match(failure.message, /Pub/);
      await bindAll([pull!, workerPull!, workerPush!, db!]);
    } finally {
      squatter.close();
      await master.stop();
    }
  });
});

describe("the supervision example", () => {
  it("runs with one command and reports restarts, nothing lost or duplicated, and the median", async () => {
    const root = fileURLToPath(new URL("..", import.meta.url));
    const args = ["--import", "tsx", "examples/supervision/run.ts", "--messages", "3000", "--crashes", "15"];
    const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const code = await new Promise<number | null>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the example did not finish: ${stdout} ${stderr}`)),
          60_000,
        );
        child.once("close", (exitCode) => resolve(exitCode));
      });
      assert.equal(code, 0, `${stdout}\n${stderr}`);
      const lines = stdout.split("\n");
      for (const line of ["restarts: 15", "lost: 0", "duplicated: 0"]) assert.ok(lines.includes(line), line);
      assert.ok(lines.some((line) => line.startsWith("results: 3000 ")));
      assert.ok(lines.some((line) => /^median crash-to-ready: \d+\.\d\d ms$/.test(line)));
    } finally {
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});
