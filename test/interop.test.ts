import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { pino } from "pino";
import { Client, PYLM_GREETING_WAIT_MS } from "../actors/client.js";
import { Master } from "../actors/servers/master.js";
import { Pipeline } from "../actors/servers/pipeline.js";
import { Server } from "../actors/servers/server.js";
import { Worker } from "../actors/worker.js";
import { RemoteError } from "../src/errors.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { PythonPeer, requirePython } from "./python/peers.js";

// Every palm peer here speaks pylm's wire format; the Python programs in test/python are unmodified-pylm
// stand-ins (see test/python/README.md). Each test starts its own processes on fresh ports and kills them
// by PID in `finally`.
const codec = "palm-protobuf";
const logLevel = "silent";

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const upper = (payload: Uint8Array) => Buffer.from(text(payload).toUpperCase());

/** What `pylm_client.py` printed: its result lines (in arrival order) and its `DONE` count. */
async function clientOutput(client: PythonPeer): Promise<{ results: string[]; done: number }> {
  const code = await client.exitCode();
  assert.equal(code, 0, `pylm_client.py failed:\n${client.stderr}`);
  const doneLine = client.lines.find((line) => line.startsWith("DONE "));
  assert.ok(doneLine, `no DONE line:\n${client.lines.join("\n")}`);
  return { results: client.lines.slice(0, client.lines.indexOf(doneLine)), done: Number(doneLine.slice(5)) };
}

function expectedPayloads(n: number, map: (payload: string) => string, prefix = "msg-"): string[] {
  return Array.from({ length: n }, (_, i) => map(`${prefix}${i}`)).sort();
}

/** Runs `pylm_client.py` against the server whose cache is at `db`. */
function pythonClient(server: string, db: string, args: string[]): PythonPeer {
  return new PythonPeer("pylm_client.py", ["--server", server, "--db", db, "--timeout", "20", ...args]);
}

/** Starts `pylm_master.py` on fresh ports and waits for READY. */
async function pythonMaster(name: string, extra: string[] = []) {
  const [pull, pub, workerPull, workerPush, db] = (await freeEndpoints(5)) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const peer = new PythonPeer("pylm_master.py", [
    "--name",
    name,
    "--pull",
    pull,
    "--pub",
    pub,
    "--worker-pull",
    workerPull,
    "--worker-push",
    workerPush,
    "--db",
    db,
    ...extra,
  ]);
  return { peer, pull, pub, workerPull, workerPush, db };
}

/** Stops everything given, in order, whatever happens to each. */
async function stopAll(...stoppers: Array<(() => Promise<unknown>) | undefined>): Promise<void> {
  for (const stop of stoppers) {
    try {
      await stop?.();
    } catch {
      // Keep stopping the rest: every process must go.
    }
  }
}

describe("interop with Python pylm peers (palm-protobuf)", () => {
  before(() => {
    requirePython(); // fails, naming python3-zmq and python3-protobuf, when the Python side is missing
  });

  it("serves a Python pylm client from a palm Master with palm Workers (job, eval, function lists, errors)", async () => {
    const [pull, pub, workerPull, workerPush, db] = await freeEndpoints(5);
    const master = new Master({
      name: "srv",
      pullAddress: pull!,
      pubAddress: pub!,
      workerPullAddress: workerPull!,
      workerPushAddress: workerPush!,
      dbAddress: db!,
      codec,
      logLevel,
    });
    const functions = {
      upper,
      tag: (payload: Uint8Array) => Buffer.concat([Buffer.from("ts:"), payload]),
      fail: () => {
        throw new Error("fail() always fails");
      },
    };
    const workers = [1, 2].map(
      (k) => new Worker({ name: `w${k}`, dbAddress: db!, functions, codec, logLevel }),
    );
    const clients: PythonPeer[] = [];
    try {
      await master.start();
      for (const worker of workers) await worker.start();

      // pylm's job(): 100 messages pushed at once, results collected in any order.
      const job = pythonClient("srv", db!, ["--function", "srv.upper", "--messages", "100"]);
      // pylm's eval(): one at a time, with a function list (stage 0 runs srv.upper, stage 1 srv.tag).
      const evalFirst = pythonClient("srv", db!, [
        "--functions",
        "srv.upper other.x",
        "--messages",
        "3",
        "--eval",
      ]);
      const evalSecond = pythonClient("srv", db!, [
        ...["--functions", "other.x srv.tag", "--stage", "1", "--messages", "3", "--eval"],
      ]);
      // A failing function: palm answers with an error result (field 7, which pylm ignores) and an empty payload.
      const failing = pythonClient("srv", db!, ["--function", "srv.fail", "--messages", "2"]);
      // The server's name is checked against the cache, as pylm does.
      const wrongName = pythonClient("nope", db!, ["--function", "nope.upper"]);
      clients.push(job, evalFirst, evalSecond, failing, wrongName);

      const jobOut = await clientOutput(job);
      assert.equal(jobOut.done, 100);
      assert.deepEqual(
        [...jobOut.results].sort(),
        expectedPayloads(100, (p) => p.toUpperCase()),
      );
      assert.deepEqual((await clientOutput(evalFirst)).results, ["MSG-0", "MSG-1", "MSG-2"]);
      assert.deepEqual((await clientOutput(evalSecond)).results, ["ts:msg-0", "ts:msg-1", "ts:msg-2"]);
      assert.deepEqual((await clientOutput(failing)).results, ["", ""]);
      assert.equal(await wrongName.exitCode(), 1);
      assert.match(wrongName.stderr, /wrong server/);

      // palm gave each id-less pylm message an id; every result came back and settled it.
      assert.equal(master.ledger.size, 0);
      assert.equal(master.ledger.duplicates, 0);
    } finally {
      await stopAll(...clients.map((c) => () => c.kill()), ...workers.map((w) => () => w.stop()), () =>
        master.stop(),
      );
    }
  });

  it("lets a palm Client use Python pylm workers behind a palm Master", async () => {
    const [pull, pub, workerPull, workerPush, db] = await freeEndpoints(5);
    const master = new Master({
      name: "srv",
      pullAddress: pull!,
      pubAddress: pub!,
      workerPullAddress: workerPull!,
      workerPushAddress: workerPush!,
      dbAddress: db!,
      codec,
      logLevel,
    });
    const pyWorkers: PythonPeer[] = [];
    const client = new Client({ serverName: "srv", dbAddress: db!, codec, logLevel, timeoutMs: 20_000 });
    try {
      await master.start();
      // pylm workers learn worker_push_address / worker_pull_address from the palm master's cache.
      for (const name of ["py1", "py2"])
        pyWorkers.push(new PythonPeer("pylm_worker.py", ["--name", name, "--db", db!]));
      for (const worker of pyWorkers) await worker.ready();
      await client.start();

      assert.equal(text(await client.eval("srv.upper", Buffer.from("hello"))), "HELLO");
      // A function list: a pylm worker runs the entry at the message's stage (0 here).
      assert.equal(text(await client.eval(["srv.tag", "srv.upper"], Buffer.from("x"))), "py:x");
      // pylm answers an unknown or failing function with b'0' and no error: that is what arrives.
      assert.equal(text(await client.eval("srv.fail", Buffer.from("x"))), "0");
      assert.equal(text(await client.eval("srv.nosuch", Buffer.from("x"))), "0");

      const payloads = Array.from({ length: 300 }, (_, i) => Buffer.from(`m${i}`));
      const results: string[] = [];
      for await (const result of client.job("srv.tag", payloads)) {
        assert.ok(!(result instanceof RemoteError), String(result));
        results.push(text(result));
      }
      assert.deepEqual(results.sort(), payloads.map((p) => `py:${text(p)}`).sort());

      // The cache works for palm clients as for pylm ones.
      const key = await client.set(Buffer.from("value"));
      assert.equal(text(await client.get(key)), "value");
      assert.equal(await client.delete(key), key);

      // pylm workers kept palm's id (field 8) on every result: each settled its message, none was duplicated.
      assert.equal(master.ledger.size, 0);
      assert.equal(client.unexpectedResults, 0);
    } finally {
      await stopAll(
        () => client.stop(),
        ...pyWorkers.map((w) => () => w.kill()),
        () => master.stop(),
      );
    }
  });

  it("runs a palm Client and a palm Worker against a Python pylm master, and serves a Python client there", async () => {
    const py = await pythonMaster("pym");
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
    const worker = new Worker({
      name: "w1",
      dbAddress: py.db,
      codec,
      logLevel,
      functions: {
        upper,
        fail: () => {
          throw new Error("boom");
        },
      },
    });
    const client = new Client({ serverName: "pym", dbAddress: py.db, codec, logger, timeoutMs: 20_000 });
    let pyClient: PythonPeer | undefined;
    try {
      await py.peer.ready();
      await worker.start(); // learns the worker addresses from the Python master's cache

      // A pylm master's PUB never greets: the client waits a moment, says so, and goes on.
      const started = Date.now();
      await client.start();
      assert.ok(Date.now() - started >= PYLM_GREETING_WAIT_MS - 50);
      assert.ok(
        lines.some((line) => line.includes("no greeting from the server's PUB")),
        lines.join("\n"),
      );

      assert.equal(text(await client.eval("pym.upper", Buffer.from("first"))), "FIRST");
      // palm's error (field 7) crosses the Python master as an unknown field: still a RemoteError here.
      await assert.rejects(client.eval("pym.fail", Buffer.from("x")), (error: unknown) => {
        assert.ok(error instanceof RemoteError);
        assert.equal(error.function, "fail");
        assert.match(error.remoteCause, /boom/);
        return true;
      });
      const payloads = Array.from({ length: 200 }, (_, i) => Buffer.from(`j${i}`));
      const results: string[] = [];
      for await (const result of client.job("pym.upper", payloads)) results.push(text(result as Uint8Array));
      assert.deepEqual(results.sort(), payloads.map((p) => text(p).toUpperCase()).sort());
      assert.equal(client.unexpectedResults, 0);

      // Cache calls through the pylm master's cache service.
      const key = await client.set(Buffer.from("v1"), "k1");
      assert.equal(key, "k1");
      assert.equal(text(await client.get("k1")), "v1");
      assert.equal(text(await worker.get("k1")), "v1");
      assert.equal(await client.delete("k1"), "k1");
      assert.equal((await client.get("k1")).length, 0);

      // A Python pylm client, through the Python master, served by the palm worker.
      pyClient = pythonClient("pym", py.db, ["--function", "pym.upper", "--messages", "20"]);
      const out = await clientOutput(pyClient);
      assert.deepEqual(
        [...out.results].sort(),
        expectedPayloads(20, (p) => p.toUpperCase()),
      );
    } finally {
      await stopAll(
        () => client.stop(),
        async () => pyClient?.kill(),
        () => worker.stop(),
        () => py.peer.kill(),
      );
    }
  });

  it("matches id-less results from a pylm server that drops palm's fields to the only call waiting", async () => {
    const py = await pythonMaster("pym", ["--drop-unknown"]);
    const worker = new Worker({ name: "w1", dbAddress: py.db, codec, logLevel, functions: { upper } });
    const client = new Client({ serverName: "pym", dbAddress: py.db, codec, logLevel, timeoutMs: 20_000 });
    try {
      await py.peer.ready();
      await worker.start();
      await client.start();
      for (const word of ["a", "b", "c"])
        assert.equal(text(await client.eval("pym.upper", Buffer.from(word))), word.toUpperCase());
      const payloads = Array.from({ length: 50 }, (_, i) => Buffer.from(`n${i}`));
      const results: string[] = [];
      for await (const result of client.job("pym.upper", payloads)) results.push(text(result as Uint8Array));
      assert.deepEqual(results.sort(), payloads.map((p) => text(p).toUpperCase()).sort());
    } finally {
      await stopAll(
        () => client.stop(),
        () => worker.stop(),
        () => py.peer.kill(),
      );
    }
  });

  it("serves a Python pylm client from a palm Server", async () => {
    const [pull, pub, db] = await freeEndpoints(3);
    const server = new Server({
      name: "single",
      pullAddress: pull!,
      pubAddress: pub!,
      dbAddress: db!,
      codec,
      logLevel,
      functions: { upper },
    });
    const clients: PythonPeer[] = [];
    try {
      await server.start();
      const job = pythonClient("single", db!, ["--function", "single.upper", "--messages", "50"]);
      const evals = pythonClient("single", db!, ["--function", "single.upper", "--messages", "3", "--eval"]);
      const unknown = pythonClient("single", db!, ["--function", "single.nosuch", "--messages", "1"]);
      clients.push(job, evals, unknown);
      const out = await clientOutput(job);
      assert.deepEqual(
        [...out.results].sort(),
        expectedPayloads(50, (p) => p.toUpperCase()),
      );
      assert.deepEqual((await clientOutput(evals)).results, ["MSG-0", "MSG-1", "MSG-2"]);
      // An unknown function is an error result: pylm reads only its (empty) payload.
      assert.deepEqual((await clientOutput(unknown)).results, [""]);
    } finally {
      await stopAll(...clients.map((c) => () => c.kill()), () => server.stop());
    }
  });

  it("serves a Python pylm client through a pipelined palm Server and a palm Pipeline", async () => {
    const [pull, pub, db, pipePub, pipeDb] = await freeEndpoints(5);
    const server = new Server({
      name: "first",
      pullAddress: pull!,
      pubAddress: pub!,
      dbAddress: db!,
      pipelined: true,
      codec,
      logLevel,
      functions: { upper },
    });
    const pipeline = new Pipeline({
      name: "second",
      dbAddress: pipeDb!,
      subAddress: pub!,
      pubAddress: pipePub!,
      previous: "first",
      toClient: true,
      codec,
      logLevel,
      functions: { tag: (payload: Uint8Array) => Buffer.concat([Buffer.from("ts:"), payload]) },
    });
    // Proves the pipeline's subscription to the server is in place before the Python client sends.
    const probe = new Client({
      serverName: "first",
      dbAddress: db!,
      subAddress: pipePub!,
      codec,
      logLevel,
      timeoutMs: 300,
    });
    let pyClient: PythonPeer | undefined;
    try {
      await server.start();
      await pipeline.start();
      await probe.start();
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          assert.equal(
            text(await probe.eval(["first.upper", "second.tag"], Buffer.from("probe"))),
            "ts:PROBE",
          );
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
        }
      }
      // pylm's pipeline client: the cache of the first server, the PUB of the last stage.
      pyClient = pythonClient("first", db!, [
        ...["--functions", "first.upper second.tag", "--sub", pipePub!, "--messages", "30"],
      ]);
      const out = await clientOutput(pyClient);
      assert.deepEqual(
        [...out.results].sort(),
        expectedPayloads(30, (p) => `ts:${p.toUpperCase()}`),
      );
    } finally {
      await stopAll(
        async () => pyClient?.kill(),
        () => probe.stop(),
        () => pipeline.stop(),
        () => server.stop(),
      );
    }
  });
});
