import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { ClusterStore } from "../src/inspector/ClusterStore.js";
import { createClusterServer } from "../src/inspector/createClusterServer.js";
import type { InspectorServer } from "../src/inspector/createInspectorServer.js";
import type { InspectorMessageHop, InspectorPart } from "../src/inspector/types.js";
import { chromiumMissing, launchChromium } from "./support/chromium.js";

const part = (name: string): InspectorPart => ({
  name,
  kind: "outbound",
  partType: "Unknown",
  state: "running.idle",
  restarts: 0,
  messagesIn: 0,
  messagesOut: 0,
  errors: 0,
});

describe("message lanes on the cluster page, in headless Chromium", { skip: chromiumMissing() }, () => {
  let store: ClusterStore;
  let server: InspectorServer;
  let browser: Browser;
  let page: Page;
  let master: string;
  let worker: string;

  const hop = (process: string, partName: string, fields: Partial<InspectorMessageHop> & { id: string }) =>
    store.emit(process, {
      type: "message.hop",
      part: partName,
      at: Date.now(),
      message: {
        direction: "out",
        client: "c1",
        function: "m.f",
        stage: 0,
        size: 3,
        preview: "abc",
        ...fields,
      },
    });
  const lanesOf = () =>
    page.locator("#lanes g.hop").evaluateAll((nodes) =>
      nodes.map((n) => ({
        id: n.getAttribute("data-hop-id"),
        lane: n.getAttribute("data-lane"),
        mark: n.getAttribute("data-mark"),
        error: n.classList.contains("error"),
      })),
    );

  before(async () => {
    store = new ClusterStore("live");
    master = store.addProcess("synthetic://m", "m");
    worker = store.addProcess("synthetic://w", "w");
    store.setSnapshot(master, { server: "m", parts: [part("Pull"), part("WorkerPush")], routes: [] });
    store.setSnapshot(worker, { server: "w", parts: [part("Pull"), part("Push")], routes: [] });
    server = await createClusterServer({ port: 0, source: store });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(server.url);
    await page.locator('#connection[data-connection="live"]').waitFor({ timeout: 10_000 });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("marks a message handed to the same part again as redelivered, one received again as a duplicate, and errors", async () => {
    hop(master, "WorkerPush", { id: "a" });
    hop(master, "WorkerPush", { id: "a" });
    hop(worker, "Pull", { id: "a", direction: "in" });
    hop(worker, "Pull", { id: "a", direction: "in" });
    hop(worker, "Push", { id: "b", client: "c2", function: "m.g", error: "TypeError: boom" });
    await page.waitForFunction(() => document.querySelectorAll("#lanes g.hop").length === 5, undefined, {
      timeout: 10_000,
    });
    assert.deepEqual(await lanesOf(), [
      { id: "a", lane: "m/WorkerPush", mark: null, error: false },
      { id: "a", lane: "m/WorkerPush", mark: "redelivered", error: false },
      { id: "a", lane: "w/Pull", mark: null, error: false },
      { id: "a", lane: "w/Pull", mark: "duplicate", error: false },
      { id: "b", lane: "w/Push", mark: null, error: true },
    ]);
    assert.equal(await page.locator("#lanes path.hop-link.cross").count(), 1);
  });

  it("filters by client, function and message id", async () => {
    const count = () => page.locator("#lanes g.hop").count();
    await page.locator("#filter-client").fill("c2");
    await page.waitForFunction(() => document.querySelectorAll("#lanes g.hop").length === 1);
    await page.locator("#filter-client").fill("");
    await page.locator("#filter-function").fill("m.f");
    await page.waitForFunction(() => document.querySelectorAll("#lanes g.hop").length === 4);
    await page.locator("#filter-function").fill("");
    await page.locator("#filter-id").fill("b");
    await page.waitForFunction(() => document.querySelectorAll("#lanes g.hop").length === 1);
    assert.equal(await count(), 1);
    await page.locator("#filter-id").fill("");
    await page.waitForFunction(() => document.querySelectorAll("#lanes g.hop").length === 5);
  });

  it("shows a process that went away as not connected", async () => {
    store.setConnected(worker, false);
    await page
      .locator('section.process[data-process="w"][data-connected="false"]')
      .waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('section.process[data-process="m"][data-connected="true"]').count(), 1);
  });
});
