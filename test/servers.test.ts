import assert from "node:assert/strict";
import { after, afterEach, describe, it } from "node:test";
import * as zmq from "zeromq";
import { Client, type JobResult } from "../actors/client.js";
import { Hub } from "../actors/servers/hub.js";
import { Master } from "../actors/servers/master.js";
import { Pipeline } from "../actors/servers/pipeline.js";
import { Server } from "../actors/servers/server.js";
import { Sink } from "../actors/servers/sink.js";
import { Worker } from "../actors/worker.js";
import { CacheClient } from "../src/cacheClient.js";
import { msgpackCodec } from "../src/codec/index.js";
import { isPalmError, RemoteError } from "../src/errors.js";
import { freeEndpoints } from "../src/testing/ports.js";

// The ready-made servers (Server, Pipeline, Sink, Hub) and the Client's contract (eval, job, errors),
// in one process with real sockets on free ports. Everything a test starts is stopped after it.

const quiet = { logLevel: "silent" } as const;
/** A payload as text (an error result shows as `error: …`, so an assertion prints it). */
const text = (result: JobResult) =>
  result instanceof Error ? `error: ${result.message}` : Buffer.from(result).toString();
const bytes = (value: string) => Buffer.from(value);

/** Things to stop after each test, stopped last-started first. */
let stack: Array<{ stop(): Promise<void> }> = [];
function track<T extends { stop(): Promise<void> }>(thing: T): T {
  stack.push(thing);
  return thing;
}
afterEach(async () => {
  const things = stack.reverse();
  stack = [];
  for (const thing of things) await thing.stop();
});

async function started<T extends { start(): Promise<void>; stop(): Promise<void> }>(thing: T): Promise<T> {
  track(thing);
  await thing.start();
  return thing;
}

function client(
  serverName: string,
  dbAddress: string,
  extra: Partial<ConstructorParameters<typeof Client>[0]> = {},
) {
  return started(new Client({ serverName, dbAddress, ...quiet, timeoutMs: 5_000, ...extra }));
}

/**
 * Waits until a chain of servers passes messages end to end. A SUB (a Pipeline's, a Sink's, a Hub's) is
 * started once it connects, but its subscription reaches the publisher a moment later, and a publisher
 * drops what nobody has subscribed to yet: probe with a throw-away client until an answer comes back.
 */
async function untilFlowing(serverName: string, dbAddress: string, subAddress: string, chain: string[]) {
  const probe = new Client({ serverName, dbAddress, subAddress, ...quiet, timeoutMs: 200 });
  await probe.start();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await probe.eval(chain, bytes("probe"));
        return;
      } catch (error) {
        if (attempt >= 50 || !isPalmError(error, "PALM_ERR_TIMEOUT")) throw error;
      }
    }
  } finally {
    await probe.stop();
  }
}

/** Resolves with the rejection of `promise`, and how long it took; fails if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const start = performance.now();
  try {
    await promise;
  } catch (error) {
    return { error, ms: performance.now() - start };
  }
  assert.fail("expected a rejection");
}

async function collect(results: AsyncIterable<JobResult>): Promise<JobResult[]> {
  const out: JobResult[] = [];
  for await (const result of results) out.push(result);
  return out;
}

class MyServer extends Server {
  foo(payload: Uint8Array): Uint8Array {
    return Buffer.concat([bytes("you sent me "), payload]);
  }
  async later(payload: Uint8Array): Promise<Uint8Array> {
    await new Promise((resolve) => setTimeout(resolve, 1));
    return Buffer.concat([bytes("later "), payload]);
  }
  nothing(): void {}
  boom(): Uint8Array {
    throw new RangeError("out of range");
  }
}

describe("Server", () => {
  it("runs subclass methods (sync and async), `functions` entries and its built-in echo", async () => {
    const [db, pull, pub] = await freeEndpoints(3);
    await started(
      new MyServer({
        name: "my_server",
        dbAddress: db!,
        pullAddress: pull!,
        pubAddress: pub!,
        functions: { upper: (payload) => bytes(text(payload).toUpperCase()) },
        ...quiet,
      }),
    );
    const c = await client("my_server", db!);
    assert.equal(text(await c.eval("my_server.foo", bytes("a message"))), "you sent me a message");
    assert.equal(text(await c.eval("my_server.later", bytes("x"))), "later x");
    assert.equal(text(await c.eval("my_server.upper", bytes("abc"))), "ABC");
    assert.equal(text(await c.eval("my_server.echo", bytes("same"))), "same");
  });

  it("presets its cache with its name and addresses under pylm's keys", async () => {
    const [db, pull, pub] = await freeEndpoints(3);
    await started(
      new MyServer({ name: "my_server", dbAddress: db!, pullAddress: pull!, pubAddress: pub!, ...quiet }),
    );
    const c = await client("my_server", db!);
    assert.equal(text(await c.get("name")), "my_server");
    assert.equal(text(await c.get("pull_address")), pull);
    assert.equal(text(await c.get("pub_address")), pub);
    assert.equal(text(await c.get("db_address")), db);
  });

  it("answers a failing, unknown, nameless or other server's function with a RemoteError within 1 s, and keeps serving", async () => {
    const [db, pull, pub] = await freeEndpoints(3);
    await started(
      new MyServer({ name: "my_server", dbAddress: db!, pullAddress: pull!, pubAddress: pub!, ...quiet }),
    );
    const c = await client("my_server", db!);
    const cases: Array<[string, RegExp]> = [
      ["my_server.boom", /RangeError: out of range/],
      ["my_server.missing", /unknown function "missing"/],
      ["other.foo", /names server "other"/],
      // A framework method overridden or not, is never callable by clients.
      ["my_server.handleStream", /unknown function "handleStream"/],
      ["my_server.start", /unknown function "start"/],
      // A Server (unlike a Pipeline) answers a function that returns nothing with an error.
      ["my_server.nothing", /returned undefined, expected bytes/],
    ];
    for (const [fn, cause] of cases) {
      const { error, ms } = await rejection(c.eval(fn, bytes("x")));
      assert.ok(error instanceof RemoteError, `${fn}: ${String(error)}`);
      assert.match(error.remoteCause, cause);
      assert.equal(`${error.server}.${error.function}`, fn);
      assert.ok(ms < 1_000, `${fn} answered in ${ms} ms`);
    }
    assert.equal(text(await c.eval("my_server.foo", bytes("again"))), "you sent me again");
  });

  it("publishes under its own name with stage + 1 when pipelined, or under the topic `handleStream` gives", async () => {
    const [db, pull, pub, db2, pull2, pub2] = await freeEndpoints(6);
    await started(
      new MyServer({
        name: "my_server",
        dbAddress: db!,
        pullAddress: pull!,
        pubAddress: pub!,
        pipelined: true,
        ...quiet,
      }),
    );
    await started(
      new MyServer({
        name: "steered",
        dbAddress: db2!,
        pullAddress: pull2!,
        pubAddress: pub2!,
        handleStream: (message) => ({ topic: "elsewhere", message }),
        ...quiet,
      }),
    );
    const sub = new zmq.Subscriber({ linger: 0 });
    const push = new zmq.Push({ linger: 0 });
    track({
      stop: async () => {
        sub.close();
        push.close();
      },
    });
    sub.subscribe("my_server");
    sub.subscribe("elsewhere");
    sub.connect(pub!);
    sub.connect(pub2!);
    push.connect(pull!);
    const push2 = new zmq.Push({ linger: 0 });
    track({ stop: async () => push2.close() });
    push2.connect(pull2!);
    // Publishers drop what they publish before a subscription arrives: send until both answered.
    const seen = new Map<string, { stage: number; payload: string }>();
    const reading = (async () => {
      for await (const [topic, frame] of sub) {
        const [message] = msgpackCodec.decode(frame!);
        seen.set(topic!.toString(), { stage: message!.stage, payload: text(message!.payload) });
        if (seen.size === 2) return;
      }
    })();
    while (seen.size < 2) {
      await push.send(msgpackCodec.encodeOne({ ...base("my_server.foo") }));
      await push2.send(msgpackCodec.encodeOne({ ...base("steered.foo") }));
      await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, 20))]);
    }
    assert.deepEqual(seen.get("my_server"), { stage: 1, payload: "you sent me x" });
    assert.deepEqual(seen.get("elsewhere"), { stage: 0, payload: "you sent me x" });
  });

  it("checks its options and names the option at fault", () => {
    const db = "tcp://127.0.0.1:5559";
    const good = {
      name: "s",
      dbAddress: db,
      pullAddress: "tcp://127.0.0.1:5555",
      pubAddress: "tcp://127.0.0.1:5556",
    };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ pullAddress: 5555 }, /`pullAddress`.*got `5555` \(number\)/],
      [{ dbAddress: "nowhere" }, /`dbAddress`/],
      [{ pipelined: "yes" }, /`pipelined` to be true or false/],
      [{ functions: { foo: 1 } }, /`functions\.foo` to be a function/],
      [{ name: "" }, /`name`/],
    ];
    for (const [change, message] of cases) {
      assert.throws(
        () => new Server({ ...good, ...change } as never),
        (error: unknown) => isPalmError(error, "PALM_ERR_OPTION_INVALID") && message.test(error.message),
      );
    }
  });
});

function base(fn: string) {
  return {
    pipeline: "p",
    client: "c",
    stage: 0,
    function: fn,
    cache: "",
    payload: bytes("x"),
  };
}

describe("Pipeline", () => {
  it("chains Server → Pipeline (toClient: false) → Pipeline (toClient: true) to the client", async () => {
    const [db1, pull1, pub1, db2, pub2, db3, pub3] = await freeEndpoints(7);
    await started(
      new MyServer({
        name: "my_server",
        dbAddress: db1!,
        pullAddress: pull1!,
        pubAddress: pub1!,
        pipelined: true,
        ...quiet,
      }),
    );
    const middle = await started(
      new Pipeline({
        name: "middle",
        dbAddress: db2!,
        subAddress: pub1!,
        pubAddress: pub2!,
        previous: "my_server",
        toClient: false,
        functions: { tag: (payload) => Buffer.concat([payload, bytes(" | middle")]) },
        ...quiet,
      }),
    );
    await started(
      new Pipeline({
        name: "last",
        dbAddress: db3!,
        subAddress: pub2!,
        pubAddress: pub3!,
        previous: "middle",
        functions: { tag: (payload) => Buffer.concat([payload, bytes(" | last")]) },
        ...quiet,
      }),
    );
    await untilFlowing("my_server", db1!, pub3!, ["my_server.echo", "middle.echo", "last.echo"]);
    const c = await client("my_server", db1!, { subAddress: pub3! });
    assert.equal(
      text(await c.eval(["my_server.foo", "middle.tag", "last.tag"], bytes("x"))),
      "you sent me x | middle | last",
    );
    const results = await collect(
      c.job(["my_server.echo", "middle.tag", "last.tag"], [bytes("1"), bytes("2"), bytes("3")]),
    );
    assert.deepEqual(results.map(text).sort(), [
      "1 | middle | last",
      "2 | middle | last",
      "3 | middle | last",
    ]);
    const cache = new CacheClient({ address: db2!, codec: msgpackCodec, serverName: "middle" });
    track({ stop: async () => cache.close() });
    assert.equal(text(await cache.get("name")), "middle");
    assert.equal(text(await cache.get("sub_address")), pub1);
    assert.equal(text(await cache.get("pub_address")), pub2);
    assert.equal(middle.name, "middle");
  });

  it("publishes nothing for a function that returns nothing", async () => {
    const [db1, pull1, pub1, db2, pub2] = await freeEndpoints(5);
    await started(
      new MyServer({
        name: "my_server",
        dbAddress: db1!,
        pullAddress: pull1!,
        pubAddress: pub1!,
        pipelined: true,
        ...quiet,
      }),
    );
    await started(
      new Pipeline({
        name: "filter",
        dbAddress: db2!,
        subAddress: pub1!,
        pubAddress: pub2!,
        previous: "my_server",
        functions: {
          keep: (payload) => (text(payload).startsWith("drop") ? undefined : payload),
          later: async (payload) => (text(payload).startsWith("drop") ? null : payload),
        },
        ...quiet,
      }),
    );
    await untilFlowing("my_server", db1!, pub2!, ["my_server.echo", "filter.keep"]);
    const c = await client("my_server", db1!, { subAddress: pub2! });
    for (const fn of ["filter.keep", "filter.later"]) {
      const payloads = ["keep 1", "drop 2", "keep 3", "drop 4", "keep 5"].map(bytes);
      const results = await collect(c.job(["my_server.echo", fn], payloads, { messages: 3 }));
      assert.deepEqual(results.map(text).sort(), ["keep 1", "keep 3", "keep 5"]);
    }
    // The pipeline handles messages in order: once this answer is back, the dropped ones were handled.
    assert.equal(text(await c.eval(["my_server.echo", "filter.keep"], bytes("last"))), "last");
    assert.equal(c.unexpectedResults, 0);
  });

  it("passes an error from an earlier stage on to the client, naming the function that failed", async () => {
    const [db1, pull1, pub1, db2, pub2] = await freeEndpoints(5);
    await started(
      new MyServer({
        name: "my_server",
        dbAddress: db1!,
        pullAddress: pull1!,
        pubAddress: pub1!,
        pipelined: true,
        ...quiet,
      }),
    );
    await started(
      new Pipeline({
        name: "my_pipeline",
        dbAddress: db2!,
        subAddress: pub1!,
        pubAddress: pub2!,
        previous: "my_server",
        ...quiet,
      }),
    );
    await untilFlowing("my_server", db1!, pub2!, ["my_server.echo", "my_pipeline.echo"]);
    const c = await client("my_server", db1!, { subAddress: pub2! });
    const { error } = await rejection(c.eval(["my_server.boom", "my_pipeline.echo"], bytes("x")));
    assert.ok(error instanceof RemoteError);
    assert.equal(`${error.server}.${error.function}`, "my_server.boom");
    assert.match(error.remoteCause, /RangeError: out of range/);
    const wrong = await rejection(c.eval(["my_server.echo", "not_me.echo"], bytes("x")));
    assert.ok(wrong.error instanceof RemoteError);
    assert.match(wrong.error.remoteCause, /server "my_pipeline" cannot run "not_me.echo"/);
  });

  it("checks `previous` and `toClient`", () => {
    const good = {
      name: "p",
      dbAddress: "tcp://127.0.0.1:5560",
      subAddress: "tcp://127.0.0.1:5556",
      pubAddress: "tcp://127.0.0.1:5561",
      previous: "server",
    };
    assert.throws(() => new Pipeline({ ...good, previous: "" }), /`previous`/);
    assert.throws(() => new Pipeline({ ...good, toClient: 1 } as never), /`toClient` to be true or false/);
    assert.throws(() => new Pipeline({ ...good, subAddress: undefined } as never), /`subAddress`/);
  });
});

describe("Sink", () => {
  it("gathers the streams of two servers into one publisher", async () => {
    const [dbA, pullA, pubA, dbB, pullB, pubB, dbS, pubS] = await freeEndpoints(8);
    await started(
      new MyServer({
        name: "a",
        dbAddress: dbA!,
        pullAddress: pullA!,
        pubAddress: pubA!,
        pipelined: true,
        ...quiet,
      }),
    );
    await started(
      new MyServer({
        name: "b",
        dbAddress: dbB!,
        pullAddress: pullB!,
        pubAddress: pubB!,
        pipelined: true,
        ...quiet,
      }),
    );
    await started(
      new Sink({
        name: "my_sink",
        dbAddress: dbS!,
        subAddresses: [pubA!, pubB!],
        previous: ["a", "b"],
        pubAddress: pubS!,
        functions: { foo: (payload) => Buffer.concat([bytes("and gathered "), payload]) },
        ...quiet,
      }),
    );
    await untilFlowing("a", dbA!, pubS!, ["a.echo", "my_sink.echo"]);
    await untilFlowing("b", dbB!, pubS!, ["b.echo", "my_sink.echo"]);
    const ca = await client("a", dbA!, { subAddress: pubS! });
    const cb = await client("b", dbB!, { subAddress: pubS! });
    const [fromA, fromB] = await Promise.all([
      collect(ca.job(["a.foo", "my_sink.foo"], [bytes("1"), bytes("2")])),
      collect(cb.job(["b.foo", "my_sink.foo"], [bytes("3"), bytes("4")])),
    ]);
    assert.deepEqual(fromA.map(text).sort(), ["and gathered you sent me 1", "and gathered you sent me 2"]);
    assert.deepEqual(fromB.map(text).sort(), ["and gathered you sent me 3", "and gathered you sent me 4"]);
  });

  it("checks that `subAddresses` and `previous` can be zipped", () => {
    const good = {
      name: "s",
      dbAddress: "tcp://127.0.0.1:5580",
      subAddresses: ["tcp://127.0.0.1:5561", "tcp://127.0.0.1:5571"],
      previous: ["a", "b"],
      pubAddress: "tcp://127.0.0.1:5581",
    };
    assert.throws(
      () => new Sink({ ...good, previous: ["a"] }),
      (error: unknown) =>
        isPalmError(error, "PALM_ERR_OPTION_INVALID") &&
        /as many entries as `subAddresses` \(2/.test(error.message),
    );
    assert.throws(() => new Sink({ ...good, subAddresses: [] }), /`subAddresses` to be a non-empty array/);
    assert.throws(
      () => new Sink({ ...good, subAddresses: ["tcp://127.0.0.1:5561", "x"] }),
      /`subAddresses\[1\]`/,
    );
    assert.throws(() => new Sink({ ...good, previous: "a" } as never), /`previous` to be a non-empty array/);
  });
});

describe("Hub", () => {
  it("takes a pipelined Server's stream, has its workers run it and answers the client", async () => {
    const [db1, pull1, pub1, dbH, pubH, workerPull, workerPush] = await freeEndpoints(7);
    await started(
      new MyServer({
        name: "server",
        dbAddress: db1!,
        pullAddress: pull1!,
        pubAddress: pub1!,
        pipelined: true,
        ...quiet,
      }),
    );
    await started(
      new Hub({
        name: "hub",
        subAddress: pub1!,
        pubAddress: pubH!,
        workerPullAddress: workerPull!,
        workerPushAddress: workerPush!,
        dbAddress: dbH!,
        previous: "server",
        ...quiet,
      }),
    );
    // The worker learns the hub's worker addresses from the hub's cache.
    await started(
      new Worker({
        name: "w1",
        dbAddress: dbH!,
        functions: { foo: (payload) => Buffer.concat([bytes("w1 processed "), payload]) },
        ...quiet,
      }),
    );
    await untilFlowing("server", db1!, pubH!, ["server.echo", "hub.foo"]);
    const c = await client("server", db1!, { subAddress: pubH! });
    assert.equal(
      text(await c.eval(["server.foo", "hub.foo"], bytes("a message"))),
      "w1 processed you sent me a message",
    );
    const results = await collect(c.job(["server.echo", "hub.foo"], ["1", "2", "3"].map(bytes)));
    assert.deepEqual(results.map(text).sort(), ["w1 processed 1", "w1 processed 2", "w1 processed 3"]);
    // An error from the server's stage is not run by the workers: it reaches the client as it was.
    const { error } = await rejection(c.eval(["server.boom", "hub.foo"], bytes("x")));
    assert.ok(error instanceof RemoteError);
    assert.match(error.remoteCause, /RangeError: out of range/);
    const wrong = await rejection(c.eval(["server.echo", "elsewhere.foo"], bytes("x")));
    assert.ok(wrong.error instanceof RemoteError);
    assert.match(wrong.error.remoteCause, /server "hub" cannot run "elsewhere.foo"/);
  });
});

describe("Client with a Master and a Worker", () => {
  const closers: Array<() => Promise<void>> = [];
  let db = "";
  let ready: Promise<void> | undefined;
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  /** One Master and one Worker for the tests of this group. */
  function cluster(): Promise<void> {
    ready ??= (async () => {
      const [pull, pub, workerPull, workerPush, dbAddress] = await freeEndpoints(5);
      db = dbAddress!;
      const master = new Master({
        name: "server",
        pullAddress: pull!,
        pubAddress: pub!,
        workerPullAddress: workerPull!,
        workerPushAddress: workerPush!,
        dbAddress: db,
        ...quiet,
      });
      closers.push(() => master.stop());
      await master.start();
      const worker = new Worker({
        name: "w1",
        dbAddress: db,
        functions: {
          echo: (payload) => payload,
          fail: (payload) => {
            if (text(payload).startsWith("bad")) throw new Error(`cannot take ${text(payload)}`);
            return payload;
          },
        },
        ...quiet,
      });
      closers.push(() => worker.stop());
      await worker.start();
    })();
    return ready;
  }

  it("answers 2,000 sequential evals on one client", async () => {
    await cluster();
    const c = await client("server", db);
    for (let i = 0; i < 2_000; i++) {
      assert.equal(text(await c.eval("server.echo", bytes(`m${i}`))), `m${i}`);
    }
    assert.equal(c.unexpectedResults, 0);
  });

  it("rejects an unknown function with a RemoteError within 1 s", async () => {
    await cluster();
    const c = await client("server", db);
    const { error, ms } = await rejection(c.eval("server.nope", bytes("x")));
    assert.ok(error instanceof RemoteError);
    assert.equal(error.code, "PALM_ERR_REMOTE");
    assert.equal(error.function, "nope");
    assert.match(error.remoteCause, /unknown function "nope"/);
    assert.ok(ms < 1_000, `answered in ${ms} ms`);
  });

  it("rejects a message for another server with a RemoteError within 1 s", async () => {
    await cluster();
    const c = await client("server", db);
    const { error, ms } = await rejection(c.eval("other.echo", bytes("x")));
    assert.ok(error instanceof RemoteError);
    assert.equal(error.server, "other");
    assert.match(error.remoteCause, /server "server" cannot run "other.echo"/);
    assert.ok(ms < 1_000, `answered in ${ms} ms`);
  });

  it("refuses to start against a server of another name (PALM_ERR_CLIENT_WRONG_SERVER)", async () => {
    await cluster();
    const wrong = new Client({ serverName: "not_server", dbAddress: db, ...quiet });
    track(wrong);
    await assert.rejects(wrong.start(), (error: unknown) => {
      assert.ok(isPalmError(error, "PALM_ERR_CLIENT_WRONG_SERVER"));
      assert.match(error.message, /belongs to server "server", not "not_server"/);
      return true;
    });
  });

  it("throws a TypeError for a payload that is not bytes", async () => {
    await cluster();
    const c = await client("server", db);
    await assert.rejects(c.eval("server.echo", "text" as never), TypeError);
    await assert.rejects(c.set("text" as never, "k"), TypeError);
    await assert.rejects(collect(c.job("server.echo", [bytes("ok"), 42 as never])), TypeError);
    // The client is still usable.
    assert.equal(text(await c.eval("server.echo", bytes("fine"))), "fine");
  });

  it("runs a job fed by an async iterable", async () => {
    await cluster();
    const c = await client("server", db);
    async function* payloads() {
      for (let i = 0; i < 50; i++) {
        if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
        yield bytes(`a${i}`);
      }
    }
    const results = await collect(c.job("server.echo", payloads()));
    assert.equal(results.length, 50);
    assert.deepEqual(results.map(text).sort(), Array.from({ length: 50 }, (_, i) => `a${i}`).sort());
  });

  it("reports a failed message as a RemoteError in the job's results and goes on to the end", async () => {
    await cluster();
    const c = await client("server", db);
    const payloads = ["ok 0", "bad 1", "ok 2", "bad 3", "ok 4", "ok 5"].map(bytes);
    const results = await collect(c.job("server.fail", payloads));
    assert.equal(results.length, 6);
    const errors = results.filter((r): r is RemoteError => r instanceof RemoteError);
    assert.deepEqual(errors.map((e) => e.remoteCause).sort(), [
      "Error: cannot take bad 1",
      "Error: cannot take bad 3",
    ]);
    for (const e of errors) assert.equal(`${e.server}.${e.function}`, "server.fail");
    assert.deepEqual(
      results
        .filter((r) => !(r instanceof RemoteError))
        .map((r) => text(r as Uint8Array))
        .sort(),
      ["ok 0", "ok 2", "ok 4", "ok 5"],
    );
  });
});
