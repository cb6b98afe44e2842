import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { request } from "node:http";
import { afterEach, describe, it } from "node:test";
import { promisify } from "node:util";
import { GatewayServer, type GatewayServerOptions } from "../actors/gateway/gatewayServer.js";
import { Worker } from "../actors/worker.js";
import { freeEndpoints, freePort } from "../src/testing/ports.js";
import { type FixtureProcess, startFixture } from "./fixtures/jsonProcess.js";
import { startProcess, type TestProcess } from "./support/httpProcesses.js";

/** What every example server prints once it serves. */
const READY = /^ready$/m;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

async function addresses() {
  const [workerPullAddress, workerPushAddress, dbAddress] = await freeEndpoints(3);
  return {
    httpAddress: `http://127.0.0.1:${await freePort()}`,
    workerPullAddress: workerPullAddress!,
    workerPushAddress: workerPushAddress!,
    dbAddress: dbAddress!,
  };
}

/** A gateway and one in-process worker with `echo`, `fail` and `slow`; both stopped after the test. */
async function gateway(options: Partial<GatewayServerOptions> = {}) {
  const at = await addresses();
  const gw = new GatewayServer({ name: "server", logLevel: "silent", ...at, ...options });
  await gw.start();
  cleanup.push(() => gw.stop());
  const worker = new Worker({
    name: "w1",
    dbAddress: at.dbAddress,
    logLevel: "silent",
    functions: {
      echo: (payload: Uint8Array) => payload,
      fail: () => {
        throw new Error("boom");
      },
      slow: async (payload: Uint8Array) => {
        await sleep(1000);
        return payload;
      },
    },
  });
  await worker.start();
  cleanup.push(() => worker.stop());
  return { gw, url: gw.httpAddress };
}

async function call(url: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.text() };
}

describe("the HTTP gateway (GatewayRouter, GatewayDealer, HttpGateway)", () => {
  it("answers 200 with the result, 404 for /, 405 for other methods, 413 over the body limit, 500 for an error result", async () => {
    const { url } = await gateway({ maxBodyBytes: 1024 });
    assert.deepEqual(await call(`${url}/echo`, { method: "POST", body: "hello" }), {
      status: 200,
      body: "hello",
    });
    assert.deepEqual(await call(`${url}/echo?ignored=1`), { status: 200, body: "" });
    assert.deepEqual(await call(`${url}/server.echo`, { method: "POST", body: "named" }), {
      status: 200,
      body: "named",
    });
    const missing = await call(`${url}/`);
    assert.equal(missing.status, 404);
    assert.match(missing.body, /no function/);
    for (const method of ["PUT", "DELETE"]) {
      const refused = await fetch(`${url}/echo`, { method, body: method === "PUT" ? "x" : undefined });
      assert.equal(refused.status, 405);
      assert.equal(refused.headers.get("allow"), "GET, POST");
      assert.match(await refused.text(), new RegExp(`method ${method} not allowed`));
    }
    const big = await call(`${url}/echo`, { method: "POST", body: "x".repeat(2048) });
    assert.equal(big.status, 413);
    assert.match(big.body, /larger than 1024 bytes/);
    // A body without content-length (chunked) is counted as it comes.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}/echo`, { method: "POST" }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      req.on("error", reject);
      for (let i = 0; i < 8; i++) req.write("y".repeat(256));
      req.end();
    });
    assert.equal(chunked, 413);
    assert.deepEqual(await call(`${url}/fail`, { method: "POST", body: "x" }), {
      status: 500,
      body: "Error: boom\n",
    });
    const unknown = await call(`${url}/nope`, { method: "POST", body: "x" });
    assert.equal(unknown.status, 500);
    assert.match(unknown.body, /unknown function "nope"/);
  });

  it("answers 504 when the workers are too slow and 502 when the cluster never takes the request", async () => {
    const { gw, url } = await gateway({
      timeoutMs: 300,
      supervision: { backoff: { minMs: 1500, maxMs: 1500, jitter: 0 } },
    });
    const slow = await call(`${url}/slow`, { method: "POST", body: "x" });
    assert.equal(slow.status, 504);
    assert.match(slow.body, /did not answer within 300 ms/);
    // The GatewayRouter crashes and comes back 1.5 s later: meanwhile the cluster cannot take requests.
    const restarted = new Promise((resolve) => gw.on("part.restarted", resolve));
    gw.crash("GatewayRouter");
    const down = await call(`${url}/echo`, { method: "POST", body: "x" });
    assert.equal(down.status, 502);
    assert.match(down.body, /the cluster did not take the request within 300 ms/);
    // A request made while it is down waits for it (up to the timeout), then goes through.
    await restarted;
    assert.deepEqual(await call(`${url}/echo`, { method: "POST", body: "back" }), {
      status: 200,
      body: "back",
    });
  });

  it("a GatewayDealer crash with requests in flight loses none: every client gets its own answer", async () => {
    const { gw, url } = await gateway();
    const answers = Array.from({ length: 200 }, (_, i) =>
      call(`${url}/echo`, { method: "POST", body: `r${i}` }),
    );
    await sleep(5);
    gw.crash("GatewayDealer");
    const done = await Promise.all(answers);
    for (const [i, answer] of done.entries()) assert.deepEqual(answer, { status: 200, body: `r${i}` });
    assert.equal(gw.parts().find((p) => p.name === "GatewayDealer")!.restarts, 1);
  });
});

describe("the gateway example as processes (examples/gateway)", () => {
  it("serves 500 concurrent HTTP clients through a master and 2 worker processes, each its own answer", async () => {
    const a = await addresses();
    const env = {
      PALM_HTTP: a.httpAddress,
      PALM_WORKER_PULL: a.workerPullAddress,
      PALM_WORKER_PUSH: a.workerPushAddress,
      PALM_DB: a.dbAddress,
    };
    const processes: TestProcess[] = [];
    try {
      processes.push(await startProcess("examples/gateway/microservice.ts", { env, ready: READY }));
      for (const name of ["w1", "w2"]) {
        processes.push(await startProcess("examples/gateway/worker.ts", { env, args: [name], ready: READY }));
      }
      // The contract: curl -s -d hello http://…/echo prints hello.
      const { stdout } = await promisify(execFile)("curl", ["-s", "-d", "hello", `${a.httpAddress}/echo`]);
      assert.equal(stdout, "hello");

      const answers = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          call(`${a.httpAddress}/foo`, { method: "POST", body: `req-${i}` }),
        ),
      );
      const byWorker = new Map<string, number>();
      answers.forEach(({ status, body }, i) => {
        assert.equal(status, 200);
        const match = /^(w[12]) processed req-(\d+)$/.exec(body);
        assert.ok(match, `answer ${i} is a worker's result: ${body}`);
        assert.equal(Number(match[2]), i, "each client gets the answer to its own request");
        byWorker.set(match[1]!, (byWorker.get(match[1]!) ?? 0) + 1);
      });
      assert.deepEqual([...byWorker.keys()].sort(), ["w1", "w2"], "both workers did work");
      const client = await startProcess("examples/gateway/client.ts", {
        env,
        ready: /foo: 200 w[12] processed a message/,
      });
      processes.push(client);
      assert.match(client.output(), /echo: 200 hello/);
    } finally {
      for (const child of processes) await child.kill();
    }
  });
});

describe("the gateway's delivery guarantees (in-flight ledger, liveness) with worker processes", () => {
  it("a worker process killed with requests in flight: every HTTP client still gets 200 with its own answer", async () => {
    const at = await addresses();
    const gw = new GatewayServer({ name: "server", logLevel: "silent", timeoutMs: 20_000, ...at });
    await gw.start();
    const workers: FixtureProcess[] = [];
    try {
      for (const name of ["w1", "w2"]) {
        // `echo` spins 5 ms per request, so each worker holds many requests when one is killed.
        workers.push(
          startFixture("workerProcess.ts", { name, dbAddress: at.dbAddress, spinUs: 5000 }, { name }),
        );
      }
      await Promise.all(workers.map((w) => w.waitFor((line) => line.event === "ready")));
      const deadline = Date.now() + 5000;
      while (gw.workers().filter((w) => w.state === "alive").length < 2 && Date.now() < deadline)
        await sleep(20);
      assert.equal(
        gw.workers().filter((w) => w.state === "alive").length,
        2,
        "both workers heartbeat to the gateway",
      );

      const total = 200;
      let answered = 0;
      let killed: Promise<void> | undefined;
      const started = Date.now();
      const answers = await Promise.all(
        Array.from({ length: total }, async (_, i) => {
          const answer = await call(`${at.httpAddress}/echo`, { method: "POST", body: `req-${i}` });
          if (++answered === Math.round(total * 0.3)) killed = workers[0]!.kill("SIGKILL");
          return answer;
        }),
      );
      await killed;
      assert.ok(killed, "a worker was killed mid-run");
      const statuses = new Map<number, number>();
      for (const { status } of answers) statuses.set(status, (statuses.get(status) ?? 0) + 1);
      assert.deepEqual([...statuses], [[200, total]], "every request answered 200 (none 504)");
      for (const [i, { body }] of answers.entries())
        assert.equal(body, `req-${i}`, `request ${i} gets its own answer`);
      assert.ok(gw.ledger.redelivered > 0, "what the killed worker held was redelivered");
      assert.equal(gw.ledger.size, 0, "nothing left in flight");
      assert.equal(gw.ledger.failed, 0);
      if (process.env.PALM_TEST_REPORT) {
        console.log(
          JSON.stringify({
            ms: Date.now() - started,
            statuses: Object.fromEntries(statuses),
            redelivered: gw.ledger.redelivered,
            duplicates: gw.ledger.duplicates,
            inFlight: gw.ledger.size,
          }),
        );
      }
    } finally {
      for (const worker of workers) await worker.kill("SIGKILL");
      await gw.stop();
    }
  });
});
