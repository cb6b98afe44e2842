import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { Client } from "../actors/client.js";
import type { FixtureProcess } from "./fixtures/jsonProcess.js";
import { chromiumMissing } from "./support/chromium.js";
import { openClusterPage, palmInspect, startInspectedCluster, stopProcess } from "./support/palmInspect.js";

const ARTIFACTS = new URL("./artifacts/", import.meta.url);

/** Every hop drawn on the page: message id, lane (`process/part`), direction, mark, label. */
function hopsOnPage(page: Page) {
  return page.locator("#lanes g.hop").evaluateAll((nodes) =>
    nodes.map((node) => ({
      id: node.getAttribute("data-hop-id") ?? "",
      lane: node.getAttribute("data-lane") ?? "",
      direction: node.getAttribute("data-direction") ?? "",
      error: node.classList.contains("error"),
      label: node.querySelector("text")?.textContent ?? "",
    })),
  );
}

describe("palm inspect: a Master and two workers on one page, in headless Chromium", {
  skip: chromiumMissing(),
}, () => {
  const dir = mkdtempSync(join(tmpdir(), "palm-inspect-"));
  const traces = ["master", "w1", "w2"].map((name) => join(dir, `${name}.jsonl`));
  let master: FixtureProcess;
  let workers: FixtureProcess[] = [];
  let inspectCli: ChildProcess | undefined;
  let replayCli: ChildProcess | undefined;
  let client: Client;
  let browser: Browser;
  let page: Page;

  before(async () => {
    const cluster = await startInspectedCluster("cluster", ["w1", "w2"], (i) => ({
      record: traces[i],
      redactSecrets: true,
    }));
    ({ master, workers } = cluster);
    const { urls, dbAddress: db } = cluster;
    ({ cli: inspectCli, client, browser, page } = await openClusterPage(urls, "cluster", db));
  });

  after(async () => {
    await browser?.close();
    await client?.stop();
    await stopProcess(inspectCli);
    await stopProcess(replayCli);
    await Promise.all([master, ...workers].map((p) => p?.kill("SIGTERM")));
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows the three processes, each with its parts and its supervisor", async () => {
    await page.waitForFunction(
      () => document.querySelectorAll("section.process tr[data-part]").length >= 9,
      undefined,
      {
        timeout: 15_000,
      },
    );
    const names = await page
      .locator("section.process")
      .evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-process")));
    assert.deepEqual(names, ["cluster", "w1", "w2"]);
    for (const name of ["cluster", "w1", "w2"]) {
      const strategy = page.locator(`section.process[data-process="${name}"] [data-field="strategy"]`);
      assert.equal(await strategy.textContent(), "one-for-one");
    }
    const masterParts = await page.locator('section.process[data-process="cluster"] tr[data-part]').count();
    assert.ok(masterParts >= 4, `the master shows its parts (${masterParts})`);
  });

  it("draws each message's hops in time order, from the master to a worker and back", async () => {
    const payloads = ["alpha", "bravo", "charlie", "delta"].map((word) => Buffer.from(word));
    const results: string[] = [];
    for await (const result of client.job("cluster.upper", payloads)) {
      assert.ok(result instanceof Uint8Array);
      results.push(Buffer.from(result).toString());
    }
    assert.deepEqual(results.sort(), ["ALPHA", "BRAVO", "CHARLIE", "DELTA"]);
    await page.locator("#filter-function").fill("cluster.upper");
    // Nine hops a message; each process's hops come through its own stream, so wait for all of them. On a
    // loaded machine they can take a while: on a timeout, say which hops did come.
    await page
      .waitForFunction(() => document.querySelectorAll("#lanes g.hop").length >= 36, undefined, {
        timeout: 45_000,
      })
      .catch(async (error: unknown) => {
        const seen = (await hopsOnPage(page)).map(
          (hop) => `${hop.id.slice(0, 8)} ${hop.lane}:${hop.direction}`,
        );
        assert.fail(`${String(error)}\n${seen.length} hops drawn:\n${seen.join("\n")}`);
      });
    const hops = await hopsOnPage(page);
    assert.equal(hops.length, 36, "nine hops a message, none twice");
    const ids = [...new Set(hops.map((hop) => hop.id))];
    assert.equal(ids.length, 4);
    for (const id of ids) {
      const path = hops.filter((hop) => hop.id === id).map((hop) => `${hop.lane}:${hop.direction}`);
      const worker = /^(w\d)\//.exec(path[3] ?? "")?.[1];
      assert.ok(worker, `hop 4 of ${id} is on a worker: ${path.join(" ")}`);
      // In through Pull, to the delivery part, out of Dispatch to the worker that has credit, its result
      // back into Dispatch, to the delivery part again (settled once), to the publisher, which hands a palm
      // client's result on to the client's own stream.
      assert.deepEqual(path, [
        "cluster/Pull:in",
        "cluster/Delivery:out",
        "cluster/Dispatch:out",
        `${worker}/Dispatch:in`,
        "cluster/Dispatch:in",
        "cluster/Delivery:out",
        "cluster/Pub:out",
        "cluster/Pub:in",
        "cluster/Streams:out",
      ]);
    }
    const first = hops.find((hop) => hop.lane === "cluster/Pull")!;
    assert.match(first.label, /cluster\.upper \d+ B (alpha|bravo|charlie|delta)/);
    assert.ok(
      (await page.locator("#lanes path.hop-link.cross").count()) >= 8,
      "hops are linked across processes",
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator("#lanes g.hop circle").first().click();
    assert.match(
      (await page.locator("#hop-detail").textContent()) ?? "",
      /client .* function cluster\.upper/,
    );
    await page.screenshot({ path: new URL("inspector-cluster.png", ARTIFACTS).pathname, fullPage: true });
    await page
      .locator("#lanes-scroll")
      .screenshot({ path: new URL("inspector-lanes.png", ARTIFACTS).pathname });
  });

  it("keeps what the redact hook hides off the page", async () => {
    const payloads = [Buffer.from("my secret token"), Buffer.from("public words")];
    for await (const _ of client.job("cluster.upper", payloads));
    await page.locator("#filter-function").fill("");
    await page.waitForFunction(
      () => document.querySelectorAll('#lanes g.hop[data-lane="cluster/Streams"]').length === 6,
      undefined,
      { timeout: 15_000 },
    );
    const labels = (await hopsOnPage(page)).map((hop) => hop.label).join("\n");
    assert.doesNotMatch(labels, /secret/i);
    assert.match(labels, /\[redacted\]/);
    assert.match(labels, /public words/);
    assert.match(labels, /PUBLIC WORDS/);
    assert.doesNotMatch(await page.content(), /secret token/i);
  });

  it("shows a crash and the restart with its reason, and counters since that restart", async () => {
    master.command({ cmd: "crash", part: "Pub", reason: "crashed by the cluster test" });
    const row = 'section.process[data-process="cluster"] tr[data-part="Pub"]';
    await page.waitForFunction(
      (selector) => document.querySelector(`${selector} [data-field="restarts"]`)?.textContent === "1",
      row,
      { timeout: 15_000 },
    );
    assert.equal(await page.locator(`${row} [data-field="since"]`).textContent(), "since restart 1");
    assert.match(
      (await page.locator(`${row} [data-field="failure"]`).textContent()) ?? "",
      /crashed by the cluster test/,
    );
    await page
      .locator('#log li[data-event-type="part.restarted"][data-process="cluster"]')
      .waitFor({ timeout: 10_000 });
    assert.match(
      (await page.locator('#log li[data-event-type="part.failed"][data-process="cluster"]').textContent()) ??
        "",
      /Pub.*crashed by the cluster test/,
    );
    assert.match(
      (await page
        .locator('#log li[data-event-type="part.restarted"][data-process="cluster"]')
        .textContent()) ?? "",
      /restart 1 after: .*crashed by the cluster test/,
    );
    assert.match(
      (await page
        .locator('section.process[data-process="cluster"] [data-field="intensity"]')
        .textContent()) ?? "",
      /^restarts 1\/10 in 10 s$/,
    );
    await page.locator(row).click();
    await page.waitForFunction(
      () => document.querySelector("#chart-body svg g[data-state].active"),
      undefined,
      {
        timeout: 10_000,
      },
    );
    await page.screenshot({ path: new URL("inspector-crash.png", ARTIFACTS).pathname, fullPage: true });
  });

  it("replays the recorded traces, merged by time, and steps to the crash", async () => {
    await Promise.all([master, ...workers].map((p) => p.kill("SIGTERM")));
    for (const trace of traces) assert.match(readFileSync(trace, "utf8").split("\n")[0]!, /"palmTrace":1/);
    const cli = palmInspect(["--replay", ...traces, "--port", "0"]);
    replayCli = cli.child;
    await page.goto(await cli.url);
    await page.locator('#connection[data-connection="replay"]').waitFor({ timeout: 10_000 });
    await page.waitForFunction(() => Number(document.querySelector("#scrubber")?.getAttribute("max")) > 0);
    const names = await page
      .locator("section.process")
      .evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-process")));
    assert.deepEqual(names, ["cluster", "w1", "w2"]);
    await page.locator("#jump-failure").click();
    await page
      .locator('#log li[data-event-type="part.failed"][data-process="cluster"]')
      .waitFor({ timeout: 10_000 });
    assert.match(
      (await page.locator('#log li[data-event-type="part.failed"]').last().textContent()) ?? "",
      /Pub.*crashed by the cluster test/,
    );
    assert.equal(await page.locator('#log li[data-event-type="part.restarted"]').count(), 0);
    // The hops before the crash are there: every message of both jobs reached the clients.
    assert.equal(await page.locator('#lanes g.hop[data-lane="cluster/Streams"]').count(), 6);
    for (
      let step = 0;
      step < 50 && (await page.locator('#log li[data-event-type="part.restarted"]').count()) === 0;
      step++
    ) {
      await page.locator("#step").click();
    }
    assert.match(
      (await page.locator('#log li[data-event-type="part.restarted"]').last().textContent()) ?? "",
      /restart 1 after: .*crashed by the cluster test/,
    );
    // The crashed part's statechart, as it was then.
    await page.locator('section.process[data-process="cluster"] tr[data-part="Pub"]').click();
    await page.waitForFunction(
      () =>
        document.querySelector("#chart-title")?.textContent?.includes("cluster / Pub") &&
        document.querySelector('#chart-body svg g[data-state="running"]'),
      undefined,
      { timeout: 20_000 },
    );
    await page.screenshot({ path: new URL("inspector-replay.png", ARTIFACTS).pathname, fullPage: true });
  });
});
