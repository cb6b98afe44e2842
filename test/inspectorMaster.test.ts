import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { Master } from "../actors/servers/master.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { chromiumMissing, launchChromium } from "./support/chromium.js";

describe("the live inspector of a running Master, in headless Chromium", { skip: chromiumMissing() }, () => {
  let master: Master;
  let browser: Browser;
  let page: Page;

  before(async () => {
    const [pull, pub, workerPull, workerPush, db] = await freeEndpoints(5);
    master = new Master({
      name: "server",
      pullAddress: pull!,
      pubAddress: pub!,
      workerPullAddress: workerPull!,
      workerPushAddress: workerPush!,
      dbAddress: db!,
      logLevel: "silent",
      inspect: { port: 0 },
    });
    await master.start();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    await page.goto(master.template.inspectorUrl!);
  });

  after(async () => {
    await browser?.close();
    await master?.stop();
  });

  const field = (part: string, name: string) =>
    page.locator(`tr[data-part="${part}"] [data-field="${name}"]`).first();

  it("shows every part of the Master with its current state", async () => {
    await page.locator('#connection[data-connection="live"]').waitFor({ timeout: 10_000 });
    for (const part of master.parts()) {
      assert.equal(await field(part.name, "state").textContent({ timeout: 5000 }), part.state);
      assert.equal(await field(part.name, "partType").textContent(), part.partType);
      assert.equal(await field(part.name, "restarts").textContent(), "0");
    }
    assert.equal(await page.locator("tr[data-part]").count(), master.parts().length);
  });

  it("shows a part's restart counter change after it is crashed through the API", async () => {
    assert.equal(master.crash("WorkerPush", "crashed from the browser test"), true);
    await page.waitForFunction(
      () => document.querySelector('tr[data-part="WorkerPush"] [data-field="restarts"]')?.textContent === "1",
      undefined,
      { timeout: 10_000 },
    );
    assert.equal(master.parts().find((p) => p.name === "WorkerPush")!.restarts, 1);
    assert.equal(await field("WorkerPull", "restarts").textContent(), "0");
    mkdirSync(new URL("./artifacts/", import.meta.url), { recursive: true });
    await page.screenshot({
      path: new URL("./artifacts/inspector-master.png", import.meta.url).pathname,
      fullPage: true,
    });
  });
});
