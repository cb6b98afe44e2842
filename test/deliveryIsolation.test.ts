import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deliveryOnSimulatedTime } from "./support/deliveryHarness.js";

type Harness = ReturnType<typeof deliveryOnSimulatedTime>;

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

/**
 * Plays a cluster of `workers` workers (prefetch `prefetch`) against the ledger: each worker answers what
 * it holds, except one holding `poison`, which crashes instead (a refused send) and is replaced by a new
 * worker. Returns the workers that crashed.
 */
function playCluster(d: Harness, poison: string, workers: number, prefetch: number): string[] {
  const alive = ids("w", workers);
  for (const w of alive) d.hello(w, prefetch);
  let next = workers + 1;
  const answered = new Set<string>();
  const crashed: string[] = [];
  for (let round = 0; round < 10_000; round++) {
    const work = d.work();
    let acted = false;
    for (const w of [...alive]) {
      const holding = (work[w] ?? []).filter((id) => !answered.has(`${w}:${id}`));
      if (holding.length === 0) continue;
      acted = true;
      if (holding.includes(poison)) {
        d.gone(w);
        crashed.push(w);
        alive.splice(alive.indexOf(w), 1, `w${next}`);
        d.hello(`w${next++}`, prefetch);
        continue;
      }
      for (const id of holding) answered.add(`${w}:${id}`);
      d.results(w, ...holding);
    }
    if (!acted) break;
  }
  return crashed;
}

describe("a poison message fails alone", () => {
  it("fails only the message that kills its workers (prefetch 4, maxAttempts 3): the others get one result each", () => {
    const d = deliveryOnSimulatedTime({ maxAttempts: 3 });
    const all = ids("m", 40);
    d.take(...all);
    const crashed = playCluster(d, "m6", 3, 4);
    // Three workers died running it: the first held it with three others, the next two ran it alone.
    assert.equal(crashed.length, 3);
    const published = d.published();
    const failed = published.filter((m) => m.error !== undefined);
    assert.deepEqual(
      failed.map((m) => m.id),
      ["m6"],
    );
    assert.match(
      failed[0]!.error!,
      /^no result after 3 attempts: the workers running it were lost, the last one while it ran alone/,
    );
    const results = published.filter((m) => m.error === undefined).map((m) => m.id!);
    assert.deepEqual([...results].sort(), all.filter((id) => id !== "m6").sort());
    assert.equal(d.ledger.failed, 1);
    assert.equal(d.ledger.size, 0);
    assert.equal(d.ledger.stats().suspects, 0);
    d.stop();
  });

  it("fails a poison message with as many workers lost as maxAttempts, whatever the prefetch and workers", () => {
    for (const [workers, prefetch] of [
      [1, 4],
      [2, 1],
      [2, 2],
      [2, 8],
    ] as const) {
      const d = deliveryOnSimulatedTime({ maxAttempts: 2 });
      d.take(...ids("m", 30));
      const crashed = playCluster(d, "m1", workers, prefetch);
      assert.equal(crashed.length, 2, `${workers} workers, prefetch ${prefetch}`);
      const published = d.published();
      assert.equal(published.length, 30);
      assert.deepEqual(
        published.filter((m) => m.error !== undefined).map((m) => m.id),
        ["m1"],
      );
      assert.equal(new Set(published.map((m) => m.id)).size, 30);
      d.stop();
    }
  });

  it("runs a crashed worker's messages alone, one per free worker, and keeps a worker free for them", () => {
    const d = deliveryOnSimulatedTime();
    d.hello("w1", 3);
    d.hello("w2", 3);
    d.take(...ids("m", 30));
    const first = d.work();
    assert.deepEqual(first, { w1: ["m1", "m3", "m5"], w2: ["m2", "m4", "m6"] });
    d.gone("w1");
    assert.equal(d.ledger.stats().suspects, 3);
    // w2 is busy: kept free for the suspects, it gets nothing new when it answers one of its own.
    d.results("w2", "m2");
    assert.deepEqual(d.work().w2, ["m2", "m4", "m6"]);
    d.results("w2", "m4", "m6");
    assert.deepEqual(d.work().w2, ["m2", "m4", "m6", "m1"]);
    // While it runs a suspect it gets nothing else, even with credit left.
    d.hello("w3", 3);
    assert.deepEqual(d.work().w2, ["m2", "m4", "m6", "m1"]);
    assert.deepEqual(d.work().w3, ["m3"]);
    d.results("w2", "m1");
    d.results("w3", "m3");
    assert.deepEqual(d.work().w2, ["m2", "m4", "m6", "m1", "m5"]);
    d.results("w2", "m5");
    // No suspect left: both take work as before, three at a time.
    assert.equal(d.ledger.stats().suspects, 0);
    assert.equal(d.work().w2?.length, 8);
    assert.equal(d.work().w3?.length, 4);
    assert.equal(d.ledger.failed, 0);
    d.stop();
  });

  it("hands suspects to pylm workers (PUSH) as any message when no palm worker is alive", () => {
    const d = deliveryOnSimulatedTime({ pushPrefetch: 10 });
    d.hello("w1", 4);
    d.take("m1", "m2");
    d.gone("w1");
    assert.equal(d.ledger.stats().suspects, 2);
    d.peers(1);
    assert.deepEqual(d.pushed(), ["m1", "m2"]);
    assert.equal(d.ledger.stats().suspects, 0);
    d.stop();
  });

  it("charges a worker's departure to nobody: what it held had not started", () => {
    const d = deliveryOnSimulatedTime({ maxAttempts: 1 });
    d.hello("w1", 4);
    d.take(...ids("m", 4));
    d.bye("w1");
    d.hello("w2", 4);
    assert.deepEqual(d.work().w2, ["m1", "m2", "m3", "m4"]);
    d.results("w2", "m1", "m2", "m3", "m4");
    assert.equal(d.published().filter((m) => m.error === undefined).length, 4);
    assert.equal(d.ledger.failed, 0);
    d.stop();
  });

  it("charges a worker lost holding one message for it, as many times as it is lost", () => {
    const d = deliveryOnSimulatedTime({ maxAttempts: 2 });
    d.take("m1");
    d.hello("w1", 4);
    d.gone("w1");
    d.hello("w2", 4);
    d.gone("w2");
    assert.match(d.published()[0]!.error!, /^no result after 2 attempts/);
    d.stop();
  });
});

describe("clients are served in turn", () => {
  it("hands a second client's one call out within the next assignments, not after the first's backlog", () => {
    const d = deliveryOnSimulatedTime();
    d.hello("w1", 4);
    for (let frame = 0; frame < 10; frame++)
      d.takeFrom("A", ...Array.from({ length: 1000 }, (_, i) => `a${frame * 1000 + i + 1}`));
    d.takeFrom("B", "b1");
    assert.deepEqual(d.work().w1, ["a1", "a2", "a3", "a4"]);
    assert.equal(d.ledger.stats().clients, 2);
    d.results("w1", "a1");
    d.results("w1", "a2");
    d.results("w1", "a3");
    // One of A's, then B's, then A's again in their order.
    assert.deepEqual(d.work().w1, ["a1", "a2", "a3", "a4", "a5", "b1", "a6"]);
    assert.equal(d.ledger.stats().clients, 1);
    d.stop();
  });

  it("takes turns between three busy clients, each in its own order", () => {
    const d = deliveryOnSimulatedTime();
    d.takeFrom("A", "a1", "a2", "a3");
    d.takeFrom("B", "b1", "b2");
    d.takeFrom("C", "c1");
    d.hello("w1", 6);
    assert.deepEqual(d.work().w1, ["a1", "b1", "c1", "a2", "b2", "a3"]);
    d.stop();
  });

  it("hands messages back from a departing worker before any client's", () => {
    const d = deliveryOnSimulatedTime();
    d.hello("w1", 2);
    d.takeFrom("A", ...ids("a", 4));
    d.takeFrom("B", ...ids("b", 2));
    assert.deepEqual(d.work().w1, ["a1", "a2"]);
    d.bye("w1");
    d.hello("w2", 4);
    assert.deepEqual(d.work().w2, ["a1", "a2", "a3", "b1"]);
    d.stop();
  });
});
