import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { setup } from "xstate";
import { createInspectorServer, type InspectorServer, InspectorStore } from "../src/inspector/index.js";
import { machineToGraph } from "../src/viz/index.js";
import { chromiumMissing, launchChromium } from "./support/chromium.js";

const ARTIFACTS = new URL("./artifacts/", import.meta.url);

/** A socket part: binds, then serves; a failure can be retried. */
const servicePart = setup({ guards: { canRetry: () => true } }).createMachine({
  id: "service",
  initial: "binding",
  states: {
    binding: { on: { "part.bound": "running", "part.failed": "failed" } },
    running: {
      initial: "ready",
      on: { "xstate.error.actor.*": "failed" },
      states: {
        ready: { on: { "part.receive": "awaitingPeer" } },
        awaitingPeer: { on: { "part.reply": "ready" }, after: { 5000: "#service.failed" } },
      },
    },
    failed: { on: { "part.restart": { target: "binding", guard: "canRetry" } } },
    stopped: { type: "final" },
  },
});

/** A part with independent inbound and outbound halves. */
const duplexPart = setup({}).createMachine({
  id: "duplex",
  type: "parallel",
  states: {
    inbound: { initial: "idle", states: { idle: { on: { IN: "busy" } }, busy: { always: "idle" } } },
    outbound: {
      initial: "ready",
      states: { ready: { on: { OUT: "sending" } }, sending: { on: { SENT: "ready" } } },
    },
  },
});

const counters = { restarts: 0, messagesIn: 0, messagesOut: 0, errors: 0 };

describe("the inspector page in a headless browser", { skip: chromiumMissing() }, () => {
  let store: InspectorStore;
  let inspector: InspectorServer;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];

  before(async () => {
    store = new InspectorStore({
      server: "master",
      parts: [
        {
          name: "pull",
          kind: "inbound",
          partType: "PullService",
          state: "running.ready",
          ...counters,
          messagesIn: 12,
        },
        {
          name: "workerPush",
          kind: "outbound",
          partType: "PushService",
          state: "running.awaitingPeer",
          ...counters,
        },
        {
          name: "gateway",
          kind: "inbound",
          partType: "Duplex",
          state: "inbound.idle,outbound.sending",
          ...counters,
        },
        { name: "cache", kind: "bypass", partType: "CacheService", state: "binding", ...counters },
      ],
      routes: [
        { from: "pull", to: "workerPush", block: false },
        { from: "gateway", to: "workerPush", block: true, reroute: "pull" },
      ],
      statecharts: {
        PullService: machineToGraph(servicePart),
        PushService: machineToGraph(servicePart),
        CacheService: machineToGraph(servicePart),
        Duplex: machineToGraph(duplexPart),
      },
    });
    inspector = await createInspectorServer({ port: 0, source: store });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on("request", (request) => requests.push(request.url()));
    await page.goto(inspector.url);
  });

  after(async () => {
    await browser?.close();
    await inspector?.close();
  });

  const text = (selector: string) => page.locator(selector).first().textContent({ timeout: 5000 });

  it("shows every part with its state and counters, and the supervision tree", async () => {
    await page.locator('#connection[data-connection="live"]').waitFor({ timeout: 5000 });
    for (const part of store.snapshot().parts) {
      const row = `tr[data-part="${part.name}"]`;
      assert.equal(await text(`${row} [data-field="state"]`), part.state);
      assert.equal(await text(`${row} [data-field="partType"]`), part.partType);
      assert.equal(await text(`${row} [data-field="messagesIn"]`), String(part.messagesIn));
      assert.equal(await text(`${row} [data-field="restarts"]`), "0");
      assert.equal(await text(`[data-tree-part="${part.name}"] [data-field="state"]`), part.state);
    }
    assert.equal(await text("#tree-server"), "master");
    assert.equal(await page.locator("#routes-body tr").count(), 2);
  });

  it("highlights each part's current state (and its ancestors) on its statechart", async () => {
    const active = (part: string) =>
      page
        .locator(`[data-part-chart="${part}"] svg g[data-state].active`)
        .evaluateAll((nodes) => nodes.map((node) => node.getAttribute("data-state")).sort());
    await page
      .locator('[data-part-chart="pull"] svg g[data-state].active')
      .first()
      .waitFor({ timeout: 5000 });
    assert.deepEqual(await active("pull"), ["running", "running.ready"]);
    await page
      .locator('[data-part-chart="gateway"] svg g[data-state].active')
      .first()
      .waitFor({ timeout: 5000 });
    assert.deepEqual(await active("gateway"), ["inbound", "inbound.idle", "outbound", "outbound.sending"]);
  });

  it("updates live when a part restarts, and logs the event", async () => {
    store.updatePart("pull", { state: "failed", errors: 1, lastError: "socket closed by peer" });
    store.emit({ type: "part.failed", part: "pull", detail: "socket closed by peer" });
    await page.waitForFunction(() =>
      document.querySelector('[data-part-chart="pull"] g[data-state="failed"].active'),
    );
    store.increment("pull", "restarts", 3);
    store.updatePart("pull", { state: "running.ready" });
    store.emit({ type: "part.restarted", part: "pull", detail: "restart 3" });
    await page.waitForFunction(
      () => document.querySelector('tr[data-part="pull"] [data-field="restarts"]')?.textContent === "3",
      undefined,
      { timeout: 5000 },
    );
    assert.equal(await text('tr[data-part="pull"] [data-field="errors"]'), "1");
    assert.equal(await text('tr[data-part="pull"] [data-field="lastError"]'), "socket closed by peer");
    assert.equal(await text('tr[data-part="pull"] [data-field="state"]'), "running.ready");
    await page.locator('#log [data-event-type="part.restarted"]').waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#log [data-event-type="part.failed"]').count(), 1);
  });

  it("loads everything from the inspector itself", async () => {
    assert.ok(requests.length > 0, "the page made requests");
    const foreign = requests.filter((url) => !url.startsWith(inspector.url) && !url.startsWith("data:"));
    assert.deepEqual(foreign, []);
  });

  it("saves a screenshot to test/artifacts/inspector.png", async () => {
    await page.waitForFunction(() => !document.querySelector(".bump")); // change highlights have faded
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL("inspector.png", ARTIFACTS).pathname, fullPage: true });
  });
});
