import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Client } from "../actors/client.js";
import { RemoteError } from "../src/errors.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { type FixtureLine, type FixtureProcess, startFixture } from "./fixtures/jsonProcess.js";

const quiet = { logLevel: "silent" } as const;
const FILLER = Buffer.alloc(16 * 1024, 7);

/** `total` payloads `<prefix><i>:` followed by 16 KiB, so the queues between the stages fill up. */
function payloads(total: number, prefix: string): Iterable<Buffer> {
  return (function* () {
    for (let i = 0; i < total; i++) yield Buffer.concat([Buffer.from(`${prefix}${i}:`), FILLER]);
  })();
}

/** Counts each result by the tag before its first colon (a RemoteError fails the test). */
function tally(counts: Map<string, number>, result: Uint8Array | RemoteError): void {
  if (result instanceof RemoteError) throw result;
  const text = Buffer.from(result.subarray(0, 32)).toString("latin1");
  const tag = text.slice(0, text.indexOf(":"));
  counts.set(tag, (counts.get(tag) ?? 0) + 1);
}

/** Lost and duplicated results of a job of `total` payloads tagged `<prefix><i>`. */
function losses(counts: Map<string, number>, total: number, prefix: string) {
  let lost = 0;
  let duplicated = 0;
  for (let i = 0; i < total; i++) {
    const seen = counts.get(`${prefix}${i}`) ?? 0;
    if (seen === 0) lost++;
    else duplicated += seen - 1;
  }
  return { lost, duplicated, unknown: counts.size - (total - lost) };
}

const isReady = (line: FixtureLine) => line.event === "ready";

describe("palm servers following a palm server over streams of their own", () => {
  const processes: FixtureProcess[] = [];
  const closers: Array<() => unknown> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
    await Promise.all(processes.map((p) => p.kill()));
  });

  it("a pipeline whose second stage is slow: nothing lost, the first stage's other consumers unaffected", async (t) => {
    const [db1, pull1, pub1, db2, pub2, db3, pub3] = await freeEndpoints(7);
    // The first stage publishes each result under the name of the server its next stage names.
    const first = startFixture(
      "stageProcess.ts",
      {
        kind: "server",
        byNextServer: true,
        options: {
          name: "first",
          dbAddress: db1,
          pullAddress: pull1,
          pubAddress: pub1,
          pipelined: true,
          highWaterMark: 2,
        },
      },
      { name: "first" },
    );
    processes.push(first);
    await first.waitFor(isReady);
    // Two next stages, each following the first over its own stream: `slow` answers nothing until
    // released (then one message a millisecond), `sibling` at once.
    const stage = (name: string, dbAddress: string, pubAddress: string) =>
      startFixture(
        "stageProcess.ts",
        {
          kind: "pipeline",
          delayMs: 1,
          options: {
            name,
            dbAddress,
            subAddress: pub1,
            pubAddress,
            previous: name,
            pubNoDrop: true,
            highWaterMark: 2,
          },
        },
        { name },
      );
    const slow = stage("slow", db2!, pub2!);
    const sibling = stage("sibling", db3!, pub3!);
    processes.push(slow, sibling);
    await Promise.all([slow.waitFor(isReady), sibling.waitFor(isReady)]);
    sibling.command({ cmd: "release" });

    const total = 4000;
    const client = (subAddress: string) =>
      new Client({
        serverName: "first",
        dbAddress: db1!,
        subAddress,
        window: total,
        timeoutMs: 120_000,
        ...quiet,
      });
    const slowClient = client(pub2!);
    const siblingClient = client(pub3!);
    await Promise.all([slowClient.start(), siblingClient.start()]);
    closers.push(
      () => slowClient.stop(),
      () => siblingClient.stop(),
    );

    // 4000 results of 16 KiB for the stuck stage: far more than the queues between the stages hold
    // (two frames a socket, a frame carrying up to 1 MiB).
    const slowCounts = new Map<string, number>();
    const slowRun = (async () => {
      for await (const result of slowClient.job(["first.echo", "slow.held"], payloads(total, "a-")))
        tally(slowCounts, result);
    })();
    await slow.waitFor((line) => line.event === "held");

    const siblingCounts = new Map<string, number>();
    for await (const result of siblingClient.job(["first.echo", "sibling.held"], payloads(total, "b-")))
      tally(siblingCounts, result);
    const heldMeanwhile = slow.lines.filter((line) => line.event === "held").length;
    t.diagnostic(
      `the sibling's ${total} results came while the slow stage held ${heldMeanwhile}, answering none`,
    );
    assert.equal(slowCounts.size, 0, "the slow stage answered nothing before it was released");
    assert.deepEqual(losses(siblingCounts, total, "b-"), { lost: 0, duplicated: 0, unknown: 0 });

    slow.command({ cmd: "release" });
    await slowRun;
    assert.deepEqual(losses(slowCounts, total, "a-"), { lost: 0, duplicated: 0, unknown: 0 });
    assert.equal(slowClient.unexpectedResults + siblingClient.unexpectedResults, 0);
  });
});
