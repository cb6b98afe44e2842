import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { Client } from "../actors/client.js";
import { Worker } from "../actors/worker.js";
import { DISPATCH_VERSION, decodeHello, encodeHello, type WorkerHello } from "../src/dispatch/protocol.js";
import { InspectorFeed } from "../src/inspector/InspectorFeed.js";
import type { InspectorLiveSnapshot } from "../src/inspector/types.js";
import { startMaster } from "../src/testing/startMaster.js";
import type { FixtureProcess } from "./fixtures/jsonProcess.js";
import { chromiumMissing } from "./support/chromium.js";
import { openClusterPage, startInspectedCluster, stopProcess } from "./support/palmInspect.js";

const ARTIFACTS = new URL("./artifacts/", import.meta.url);

describe("a worker's hello may name its inspector", () => {
  const hello: WorkerHello = {
    v: DISPATCH_VERSION,
    id: "w-1",
    name: "w1",
    pid: 42,
    host: "h",
    prefetch: 8,
    heartbeatMs: 1000,
  };

  it("keeps an http(s) URL and a hello without one alike", () => {
    assert.deepEqual(decodeHello(encodeHello(hello)), hello);
    const named = { ...hello, inspector: "http://127.0.0.1:7702/" };
    assert.deepEqual(decodeHello(encodeHello(named)), named);
  });

  it("refuses a hello whose inspector is not an http URL (a peer's word is never trusted)", () => {
    for (const inspector of ["javascript:alert(1)", "", "http://a b/", 7, `http://${"x".repeat(300)}/`]) {
      const bad = encodeHello({ ...hello, inspector } as unknown as WorkerHello);
      assert.equal(decodeHello(bad), undefined, `inspector ${String(inspector).slice(0, 20)}`);
    }
  });
});

describe("a Master's inspector names its workers' inspectors", () => {
  it("lists each worker started with inspect once it joined, and only those", async () => {
    const cluster = await startMaster({
      name: "named",
      workers: 0,
      client: false,
      master: { inspect: { port: 0 } },
    });
    const { master } = cluster;
    const db = cluster.addresses.dbAddress;
    const inspected = new Worker({ name: "seen", dbAddress: db, logLevel: "silent", inspect: { port: 0 } });
    const plain = new Worker({ name: "plain", dbAddress: db, logLevel: "silent" });
    const joined: string[] = [];
    master.on("worker.joined", ({ worker }) => joined.push(worker.name));
    let feed: InspectorFeed | undefined;
    try {
      await Promise.all([inspected.start(), plain.start()]);
      const named = new Promise<InspectorLiveSnapshot>((resolve) => {
        const check = (snapshot: InspectorLiveSnapshot) => {
          if ((snapshot.peers ?? []).length > 0) resolve(snapshot);
        };
        feed = new InspectorFeed(String(master.template.inspectorUrl), {
          onSnapshot: check,
          onLive: check,
          onEvent: () => undefined,
          onConnected: () => undefined,
        });
      });
      await feed!.start();
      const snapshot = await named;
      assert.deepEqual(snapshot.peers, [{ name: "seen", url: inspected.template.inspectorUrl }]);
      const worker = master.workers().find((w) => w.name === "seen");
      assert.equal(worker?.inspector, inspected.template.inspectorUrl);
      // The second hello (the one naming the inspector) does not make the worker join twice.
      assert.deepEqual(joined.sort(), ["plain", "seen"]);
    } finally {
      await feed?.close();
      await Promise.all([inspected.stop(), plain.stop()]);
      await cluster.stop();
    }
  });
});

describe("palm inspect given only a Master's URL finds its workers, in headless Chromium", {
  skip: chromiumMissing(),
}, () => {
  let master: FixtureProcess;
  let workers: FixtureProcess[] = [];
  let inspectCli: ChildProcess | undefined;
  let client: Client;
  let browser: Browser;
  let page: Page;

  before(async () => {
    const cluster = await startInspectedCluster("found", ["w1", "w2"]);
    ({ master, workers } = cluster);
    const db = cluster.dbAddress;
    ({ cli: inspectCli, client, browser, page } = await openClusterPage([cluster.urls[0]!], "found", db));
  });

  after(async () => {
    await browser?.close();
    await client?.stop();
    await stopProcess(inspectCli);
    await Promise.all([master, ...workers].map((p) => p?.kill("SIGTERM")));
  });

  it("shows the Master and both workers, and the hops of a job in the workers' lanes", async () => {
    await page.waitForFunction(() => document.querySelectorAll("section.process").length === 3, undefined, {
      timeout: 30_000,
    });
    const names = await page
      .locator("section.process")
      .evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-process")));
    assert.deepEqual(names.sort(), ["found", "w1", "w2"]);
    const results: string[] = [];
    for await (const result of client.job("found.upper", [Buffer.from("one"), Buffer.from("two")]))
      results.push(Buffer.from(result as Uint8Array).toString());
    assert.deepEqual(results.sort(), ["ONE", "TWO"]);
    // A worker's hops reach the page only through that worker's own (discovered) inspector.
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll("#lanes g.hop")].some((hop) =>
          /^w[12]\//.test(hop.getAttribute("data-lane") ?? ""),
        ),
      undefined,
      { timeout: 30_000 },
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL("inspector-discovered.png", ARTIFACTS).pathname, fullPage: true });
  });
});
