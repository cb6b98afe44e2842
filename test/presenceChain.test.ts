import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import * as zmq from "zeromq";
import { Client } from "../actors/client.js";
import { SubConnection } from "../actors/connections/subConnection.js";
import { Pipeline } from "../actors/servers/pipeline.js";
import { Server } from "../actors/servers/server.js";
import { CacheService } from "../actors/services/cacheService.js";
import { PubService } from "../actors/services/pubService.js";
import {
  MAX_UPSTREAM,
  PRESENCE_HELLO_PREFIX,
  PRESENCE_TOPIC,
  type Presence,
  parsePresence,
  presenceFrame,
} from "../src/bridges/presence.js";
import { HELLO_PREFIX } from "../src/bridges/writerBridge.js";
import { isPalmError } from "../src/errors.js";
import { ServerTemplate } from "../src/serverTemplate.js";
import { STREAM_HELLO_PREFIX } from "../src/streams/protocol.js";
import { freeEndpoints } from "../src/testing/ports.js";

// The presence frame a following server names the instances before it in (`upstream`), read by old and
// new peers alike, and what a client makes of a chain that changes.

const quiet = { logLevel: "silent" } as const;
const alive = (instance: string, upstream?: string[]): Presence => ({
  state: "alive",
  instance,
  server: "hub",
  periodMs: 1000,
  ...(upstream ? { upstream } : {}),
});

describe("presence frames", () => {
  it("leave `upstream` out when it is empty: a server that follows nobody says what older palm servers said", () => {
    const old = { state: "alive", instance: "i", server: "s", periodMs: 1000 };
    assert.deepEqual(JSON.parse(presenceFrame(alive("i", [])).toString()), { ...old, server: "hub" });
    assert.deepEqual(JSON.parse(presenceFrame(alive("i", ["a", "b"])).toString()).upstream, ["a", "b"]);
    // An older server's frame (no `upstream`) reads as naming none.
    assert.deepEqual(parsePresence(Buffer.from(JSON.stringify(old)))?.upstream, []);
  });

  it("read `upstream` as a list of instances, at most MAX_UPSTREAM; anything else as none", () => {
    const read = (upstream: unknown) =>
      parsePresence(Buffer.from(JSON.stringify({ ...alive("i"), upstream })))?.upstream;
    assert.deepEqual(read(["a", "b"]), ["a", "b"]);
    assert.deepEqual(read("a"), []);
    assert.deepEqual(read(["a", 1]), []);
    assert.deepEqual(read(null), []);
    const long = Array.from({ length: MAX_UPSTREAM + 5 }, (_, i) => `instance-${i}`);
    assert.deepEqual(read(long), long.slice(0, MAX_UPSTREAM));
    // The rest of the presence is checked as before.
    assert.equal(parsePresence(Buffer.from(JSON.stringify({ ...alive("i"), instance: 3 }))), undefined);
  });
});

/**
 * A publisher that says what a test tells it under the presence topic, and never on its own (no
 * heartbeat). It answers a presence greeting with its presence, a stream greeting with `streamsAt` (no
 * `Streams` part by default) and any other greeting with nothing. It records the number a presence
 * greeting ends with: a client numbers its greetings and requests from one counter, so a greeting's
 * number tells which of them came before it.
 */
class ScriptedStage {
  readonly xpub = new zmq.XPublisher({ linger: 0 });
  presence: Presence;
  readonly #streamsAt: string;
  readonly greetings: number[] = [];
  #sending: Promise<unknown> = Promise.resolve();
  #waiting: { number: number; resolve: () => void } | undefined;

  constructor(presence = alive("H"), streamsAt = "") {
    this.presence = presence;
    this.#streamsAt = streamsAt;
  }

  /** Binds `address`, waiting (up to 10 s) for a publisher closed there a moment ago to let it go. */
  async bind(address: string): Promise<void> {
    for (const until = Date.now() + 10_000; ; ) {
      try {
        await this.xpub.bind(address);
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== "EADDRINUSE" || Date.now() > until) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    void this.#read();
  }

  async #read(): Promise<void> {
    try {
      for await (const [frame] of this.xpub) {
        if (frame?.[0] !== 1) continue;
        const topic = frame.subarray(1).toString();
        if (!topic.startsWith(HELLO_PREFIX)) continue;
        if (!topic.startsWith(PRESENCE_HELLO_PREFIX)) {
          this.#send([topic, topic.startsWith(STREAM_HELLO_PREFIX) ? this.#streamsAt : ""]);
          continue;
        }
        const number = Number(topic.slice(topic.lastIndexOf("/") + 1));
        if (Number.isInteger(number)) this.greetings.push(number);
        this.#send([topic, presenceFrame(this.presence)]);
        if (this.#waiting?.number === number) this.#waiting.resolve();
      }
    } catch {
      // Closed.
    }
  }

  #send(frames: Array<string | Buffer>): void {
    this.#sending = this.#sending.then(() => this.xpub.send(frames)).catch(() => undefined);
  }

  /** Says it is alive as `presence` (a raw frame is sent as it is, for the instance `instance`). */
  beat(presence: Presence | Buffer): void {
    if (!Buffer.isBuffer(presence)) this.presence = presence;
    this.#send([PRESENCE_TOPIC, Buffer.isBuffer(presence) ? presence : presenceFrame(presence)]);
  }

  /** Says the current instance stops: a client fails its pending calls as it reads this. */
  sayStopped(): void {
    this.#send([PRESENCE_TOPIC, presenceFrame({ ...this.presence, state: "stopped", periodMs: 0 })]);
  }

  /** Resolves once the greeting numbered `number` was asked. */
  greeted(number: number): Promise<void> {
    if (this.greetings.includes(number)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no greeting ${number}; greetings: ${this.greetings.join(", ")}`)),
        20_000,
      );
      this.#waiting = {
        number,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
  }
}

const stoppers: Array<() => unknown> = [];
afterEach(async () => {
  for (const stop of stoppers.splice(0).reverse()) await stop();
});

describe("a client reading a later stage", () => {
  it("sends again when an instance its stage named before is gone from the chain, not when one is only added", async () => {
    const [db, pull, pub, stagePub] = await freeEndpoints(4);
    const first = new Server({
      name: "first",
      dbAddress: db!,
      pullAddress: pull!,
      pubAddress: pub!,
      ...quiet,
    });
    stoppers.push(() => first.stop());
    await first.start();
    const stage = new ScriptedStage();
    stoppers.push(() => stage.xpub.close());
    await stage.bind(stagePub!);
    const client = new Client({ serverName: "first", dbAddress: db!, subAddress: stagePub!, ...quiet });
    stoppers.push(() => client.stop());
    await client.start();
    // The greeting to start is the first number; every call and every greeting takes the next one.
    let number = 1;
    const expected = [1];
    /**
     * One beat, read in order: a call made before it fails once the client read the `stopped` after it
     * (its stage's instance, so no restart), and a beat that is a restart made the client greet between.
     */
    const step = async (beat: Presence | Buffer, restart: boolean) => {
      const call = client.eval("first.nothing", Buffer.from("x")).then(
        () => undefined,
        (error: unknown) => error,
      );
      number++;
      stage.beat(beat);
      if (restart) {
        expected.push(++number);
        await stage.greeted(number);
      }
      stage.sayStopped();
      assert.ok(isPalmError(await call, "PALM_ERR_SERVER_STOPPED"), "the call ended as the stage stopped");
    };
    await step(alive("H", ["S1"]), false); // named for the first time
    await step(alive("H", ["S1"]), false);
    await step(alive("H", ["S2"]), true); // S1 gone: the first stage restarted
    await step(alive("H2"), true); // the stage itself restarted, naming nobody yet
    await step(alive("H2", ["S2"]), false); // a restarted stage names its chain again
    await step(alive("H2", ["M1", "S2"]), false); // one more named (a stage in between)
    await step(Buffer.from(JSON.stringify({ ...alive("H2"), upstream: "garbage" })), false); // none named
    await step(alive("H2", ["M2"]), true); // M1 and S2 gone: the middle stage restarted
    await step(alive("H2", ["M2", "S2"]), false);
    await step(alive("H2", ["M3", "S2"]), true); // M2 gone
    // Greetings come in order: the last one awaited came after every other.
    assert.deepEqual(stage.greetings, expected);
  });
});

/** The chain a palm server's presence names now, asked with a greeting of its own on its PUB (none: no answer in 2 s). */
async function namedChain(pubAddress: string, n: number): Promise<readonly string[] | undefined> {
  const sub = new zmq.Subscriber({ linger: 0, receiveTimeout: 2000 });
  try {
    sub.connect(pubAddress);
    sub.subscribe(`${PRESENCE_HELLO_PREFIX}probe/${n}`);
    const [, frame] = await sub.receive();
    return parsePresence(frame)?.upstream ?? [];
  } catch (error) {
    if ((error as { code?: string }).code === "EAGAIN") return undefined;
    throw error;
  } finally {
    sub.close();
  }
}

/** Asks until the server names `chain`, for at most `waitMs`; the chain it named last (none: no answer). */
async function waitForChain(
  pubAddress: string,
  chain: string[],
  waitMs: number,
): Promise<readonly string[] | undefined> {
  const until = Date.now() + waitMs;
  for (let n = 1; ; n++) {
    const named = await namedChain(pubAddress, n);
    if (named?.join() === chain.join() || Date.now() > until) return named;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("a following server", () => {
  it("names its publisher's instance as it follows it, and a restarted one as it reconnects, with no heartbeat heard", async () => {
    const [db, pub, stagePub] = await freeEndpoints(3);
    let publisher = new ScriptedStage(alive("S1"));
    stoppers.push(() => publisher.xpub.close());
    await publisher.bind(pub!);
    const pipeline = new Pipeline({
      name: "pipe",
      dbAddress: db!,
      subAddress: pub!,
      pubAddress: stagePub!,
      previous: "first",
      functions: { echo: (payload) => payload },
      ...quiet,
    });
    stoppers.push(() => pipeline.stop());
    await pipeline.start();
    // A publisher that restarts before its first heartbeat is seen only so: a client of this server
    // would never know the instance it sent to is gone.
    assert.deepEqual(await waitForChain(stagePub!, ["S1"], 10_000), ["S1"]);
    publisher.xpub.close();
    publisher = new ScriptedStage(alive("S2"));
    await publisher.bind(pub!);
    assert.deepEqual(await waitForChain(stagePub!, ["S2"], 10_000), ["S2"]);
  });
  it("with `ownStream: false` (reading the PUB of a publisher that has a stream), names it and a restarted one too", async () => {
    const [pub, stagePub, db] = await freeEndpoints(3);
    // A stream address nothing listens at: a part that followed it there would never be welcomed.
    const nowhere = "tcp://127.0.0.1:9";
    let publisher = new ScriptedStage(alive("S1"), nowhere);
    stoppers.push(() => publisher.xpub.close());
    await publisher.bind(pub!);
    const server = new ServerTemplate({ name: "stage", logLevel: "silent" });
    server.registerInbound(SubConnection, "Sub", pub!, { previous: "first", ownStream: false, route: "Pub" });
    server.registerOutbound(PubService, "Pub", stagePub!, {
      greet: true,
      handleStream: (message) => ({ topic: message.client, message }),
    });
    server.registerBypass(CacheService, "Cache", db!);
    await server.start();
    stoppers.push(() => server.stop());
    assert.deepEqual(await waitForChain(stagePub!, ["S1"], 10_000), ["S1"]);
    publisher.xpub.close();
    publisher = new ScriptedStage(alive("S2"), nowhere);
    await publisher.bind(pub!);
    assert.deepEqual(await waitForChain(stagePub!, ["S2"], 10_000), ["S2"]);
  });
});
