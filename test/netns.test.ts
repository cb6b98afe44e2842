import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { freePorts } from "../src/testing/ports.js";
import { type FixtureLine, type FixtureProcess, startFixture } from "./fixtures/jsonProcess.js";

// Master and workers on "different hosts": each in its own network namespace, joined by veth pairs on
// private addresses (10.99.x.y) that exist only inside the namespaces this test creates and deletes.
const tag = (process.pid % 100_000).toString(36);
const NS = { master: `palm-m-${tag}`, a: `palm-a-${tag}`, b: `palm-b-${tag}` };
const LINKS = [
  { ns: NS.a, master: `pm${tag}a`, worker: `pw${tag}a`, net: "10.99.1" },
  { ns: NS.b, master: `pm${tag}b`, worker: `pw${tag}b`, net: "10.99.2" },
];

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

function createNetwork(): void {
  for (const ns of Object.values(NS)) {
    ip("netns", "add", ns);
    ip("-n", ns, "link", "set", "lo", "up");
  }
  for (const link of LINKS) {
    ip("link", "add", link.master, "type", "veth", "peer", "name", link.worker);
    ip("link", "set", link.master, "netns", NS.master);
    ip("link", "set", link.worker, "netns", link.ns);
    ip("-n", NS.master, "addr", "add", `${link.net}.1/24`, "dev", link.master);
    ip("-n", link.ns, "addr", "add", `${link.net}.2/24`, "dev", link.worker);
    ip("-n", NS.master, "link", "set", link.master, "up");
    ip("-n", link.ns, "link", "set", link.worker, "up");
  }
}

function deleteNetwork(): void {
  for (const ns of Object.values(NS)) {
    try {
      ip("netns", "del", ns);
    } catch {
      // Not created.
    }
  }
}

describe("across hosts (network namespaces)", () => {
  let skip: string | undefined;
  const processes: FixtureProcess[] = [];
  before(() => {
    try {
      createNetwork();
    } catch (error) {
      skip = `network namespaces cannot be created here (${String((error as { stderr?: Buffer }).stderr ?? error).trim()}); this test needs root (it runs as root in CI)`;
      deleteNetwork();
    }
  });
  after(async () => {
    try {
      await Promise.all(processes.map((p) => p.kill()));
    } finally {
      deleteNetwork();
    }
  });

  it("a worker's link cut for 5 s mid-job: 20,000 results, none lost, none twice, and it rejoins", async (t) => {
    if (skip) {
      t.diagnostic(skip);
      t.skip(skip);
      return;
    }
    const [pull, pub, workerPull, workerPush, db] = await freePorts(5);
    const master = startFixture(
      "masterProcess.ts",
      {
        name: "server",
        pullAddress: `tcp://0.0.0.0:${pull}`,
        pubAddress: `tcp://0.0.0.0:${pub}`,
        workerPullAddress: `tcp://0.0.0.0:${workerPull}`,
        workerPushAddress: `tcp://0.0.0.0:${workerPush}`,
        dbAddress: `tcp://0.0.0.0:${db}`,
      },
      { name: "master", netns: NS.master },
    );
    processes.push(master);
    await master.waitFor((l) => l.event === "ready");
    for (const [i, link] of LINKS.entries()) {
      const name = `w${i + 1}`;
      const worker = startFixture(
        "workerProcess.ts",
        {
          name,
          // The master's Dispatch address comes from its cache (published on a wildcard host, reached here).
          dbAddress: `tcp://${link.net}.1:${db}`,
          spinUs: 200,
        },
        { name, netns: link.ns },
      );
      processes.push(worker);
    }
    const joined =
      (name: string, rejoined = false) =>
      (l: FixtureLine) =>
        l.event === "worker.joined" &&
        (l.worker as { name: string }).name === name &&
        l.rejoined === rejoined;
    await Promise.all([master.waitFor(joined("w1")), master.waitFor(joined("w2"))]);

    const total = 20_000;
    const client = startFixture(
      "clientProcess.ts",
      {
        serverName: "server",
        dbAddress: `tcp://127.0.0.1:${db}`,
        pushAddress: `tcp://127.0.0.1:${pull}`,
        subAddress: `tcp://127.0.0.1:${pub}`,
        function: "server.echo",
        messages: total,
        progressEvery: 1000,
      },
      { name: "client", netns: NS.master },
    );
    processes.push(client);
    const cut = LINKS[1]!;
    await client.waitFor((l) => l.event === "progress" && (l.received as number) >= total * 0.3, 60_000);
    const cutAt = Date.now();
    ip("-n", cut.ns, "link", "set", cut.worker, "down");
    await new Promise((resolve) => setTimeout(resolve, 5000));
    ip("-n", cut.ns, "link", "set", cut.worker, "up");
    const restoredAt = Date.now();
    const lost = await master.waitFor(
      (l) => l.event === "worker.lost" && (l.worker as { name: string }).name === "w2",
      1000,
    );
    const done = await client.waitFor((l) => l.event === "done", 60_000);
    const rejoined = await master.waitFor(joined("w2", true), 10_000);
    master.command({ cmd: "stats" });
    const stats = await master.waitFor((l) => l.event === "stats");
    const ledger = stats.ledger as { size: number; duplicates: number; redelivered: number };
    const progress = client.lines.filter((l) => l.event === "progress");
    const atCut = progress.filter((l) => (l.at as number) <= cutAt).pop()?.received;
    t.diagnostic(
      `cut at ${atCut} results; w2 declared lost ${(lost.at as number) - cutAt} ms after the cut; link back after ${restoredAt - cutAt} ms, w2 rejoined ${(rejoined.at as number) - restoredAt} ms later; job ${done.ms} ms; master suppressed ${ledger.duplicates} duplicates, redelivered ${ledger.redelivered}`,
    );
    assert.equal(done.received, total);
    assert.equal(done.distinct, total, "every tag arrived");
    assert.equal(done.duplicated, 0, "no tag arrived twice");
    assert.equal(done.errors, 0);
    assert.equal(done.unexpected, 0, "the master passed no result on twice");
    assert.ok((lost.at as number) - cutAt < 3000);
    assert.ok((done.at as number) > cutAt, "the job was still running when the link was cut");
    assert.equal(ledger.size, 0);
  });
});
