import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { setup } from "xstate";
import { ClusterStore } from "../src/inspector/ClusterStore.js";
import { createClusterServer } from "../src/inspector/createClusterServer.js";
import type { InspectorServer } from "../src/inspector/createInspectorServer.js";
import type { InspectorLiveSnapshot, InspectorPart } from "../src/inspector/types.js";
import { machineToGraph } from "../src/viz/index.js";
import { chromiumMissing, launchChromium } from "./support/chromium.js";

const ARTIFACTS = new URL("./artifacts/", import.meta.url);
const SERVERS = 100;
const PARTS = ["Pull", "WorkerPush", "WorkerPull", "Pub", "Cache"];
const part = setup({}).createMachine({
  id: "part",
  initial: "idle",
  states: { idle: { on: { "part.deliver": "sending" } }, sending: { on: { "part.sent": "idle" } } },
});

/** A synthetic server at tick `tick`: every counter moves, every other part is sending. */
function serverAt(server: number, tick: number): InspectorLiveSnapshot {
  const parts: InspectorPart[] = PARTS.map((name, k) => ({
    name,
    kind: k % 2 === 0 ? "inbound" : "outbound",
    partType: "SyntheticPart",
    state: (tick + k) % 2 === 0 ? "idle" : "sending",
    restarts: 0,
    messagesIn: tick * 10 + k,
    messagesOut: tick * 10 + k,
    errors: 0,
  }));
  return { server: `s${server}`, parts, routes: [] };
}

describe("the cluster page with 500 actors (100 servers of 5 parts), in headless Chromium", {
  skip: chromiumMissing(),
}, () => {
  let store: ClusterStore;
  let page: Page;
  let browser: Browser;
  let server: InspectorServer;
  const names: string[] = [];
  const figures: Record<string, number> = {};

  before(async () => {
    store = new ClusterStore("live");
    store.addStatecharts({ SyntheticPart: machineToGraph(part) });
    for (let s = 0; s < SERVERS; s++) {
      const name = store.addProcess(`synthetic://s${s}`, `s${s}`);
      names.push(name);
      store.setSnapshot(name, serverAt(s, 0));
    }
    server = await createClusterServer({ port: 0, source: store });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on("pageerror", (error) => console.log(`# page error: ${error.message}`));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("renders every actor", async () => {
    await page.goto(server.url);
    await page.waitForFunction(() => document.querySelectorAll("tr[data-part]").length === 500, undefined, {
      timeout: 30_000,
    });
    const stats = await page.evaluate(() => {
      const navigation = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
      const inspector = (
        window as unknown as { __palmInspector: { firstRenderAt: number; lastRenderMs: number } }
      ).__palmInspector;
      return {
        firstRenderAt: inspector.firstRenderAt,
        domContentLoaded: navigation.domContentLoadedEventEnd,
      };
    });
    figures.firstRenderMs = Math.round(stats.firstRenderAt);
    assert.equal(await page.locator("section.process").count(), SERVERS);
    assert.equal(await page.locator('tr[data-part] [data-field="state"]').first().textContent(), "idle");
  });

  it("follows updates at 10 Hz and keeps its events in a bounded ring", async () => {
    const TICKS = 50;
    const HOPS_PER_TICK = 200;
    for (let tick = 1; tick <= TICKS; tick++) {
      for (let s = 0; s < SERVERS; s++) store.setSnapshot(names[s]!, serverAt(s, tick));
      const at = Date.now();
      for (let h = 0; h < HOPS_PER_TICK; h++) {
        const s = h % SERVERS;
        store.emit(names[s]!, {
          type: "message.hop",
          part: PARTS[h % PARTS.length],
          at,
          message: {
            id: `m${tick}-${h}`,
            direction: h % 2 === 0 ? "in" : "out",
            client: "synthetic",
            function: "s.fn",
            stage: 0,
            size: 10,
            preview: "0123456789",
          },
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const last = String(TICKS * 10 + 4);
    await page.waitForFunction(
      (value) =>
        document.querySelector(
          'section.process[data-process="s99"] tr[data-part="Cache"] [data-field="messagesIn"]',
        )?.textContent === value,
      last,
      { timeout: 30_000 },
    );
    const stats = await page.evaluate(
      () =>
        (
          window as unknown as {
            __palmInspector: {
              ring: number;
              renders: number;
              maxRenderMs: number;
              totalRenderMs: number;
              snapshots: number;
              events: number;
            };
          }
        ).__palmInspector,
    );
    // Everything sent reached the page, and the page keeps at most its ring of it.
    assert.equal(stats.events, TICKS * HOPS_PER_TICK);
    assert.ok(stats.ring <= 6000, `ring holds ${stats.ring} events`);
    assert.equal(await page.locator("#lanes g.hop").count(), 150);
    figures.snapshotsReceived = stats.snapshots;
    figures.renders = stats.renders;
    figures.maxRenderMs = Math.round(stats.maxRenderMs);
    figures.meanRenderMs = Math.round(stats.totalRenderMs / Math.max(1, stats.renders));
    console.log(JSON.stringify((stats as unknown as { sectionMs: unknown }).sectionMs));
    figures.heapMB = Math.round(
      ((await page.evaluate(
        () => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize,
      )) ?? 0) / 1e6,
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(new URL("inspector-scale.json", ARTIFACTS), `${JSON.stringify(figures, null, 2)}\n`);
    await page.screenshot({ path: new URL("inspector-scale.png", ARTIFACTS).pathname });
    console.log(`# 500 actors: ${JSON.stringify(figures)}`);
  });
});
