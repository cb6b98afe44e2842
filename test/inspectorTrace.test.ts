import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Client } from "../actors/client.js";
import { Master } from "../actors/servers/master.js";
import { Worker } from "../actors/worker.js";
import { isPalmError } from "../src/errors.js";
import { checkInspectOptions } from "../src/inspector/inspectOptions.js";
import { messageHop, previewBytes } from "../src/inspector/messageHop.js";
import { readTraces } from "../src/inspector/readTrace.js";
import { type TraceRecord, TraceRecorder } from "../src/inspector/TraceRecorder.js";
import type { InspectorLiveSnapshot } from "../src/inspector/types.js";
import { createMessage } from "../src/message.js";
import { freeEndpoints } from "../src/testing/ports.js";

const dir = mkdtempSync(join(tmpdir(), "palm-trace-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const lines = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as TraceRecord);

const live = (n: number): InspectorLiveSnapshot => ({
  server: "s",
  parts: [
    {
      name: "Pull",
      kind: "inbound",
      partType: "P",
      state: "ready",
      restarts: 0,
      messagesIn: n,
      messagesOut: 0,
      errors: 0,
    },
  ],
  routes: [],
});

describe("trace recording", () => {
  it("writes a versioned header, the statecharts, changed snapshots only, and events", () => {
    const file = join(dir, "plain.jsonl");
    const recorder = new TraceRecorder({ file });
    recorder.statecharts("s", {});
    recorder.snapshot("s", JSON.stringify(live(1)), 10);
    recorder.snapshot("s", JSON.stringify(live(1)), 11);
    recorder.event("s", { type: "part.failed", part: "Pull", at: 12, detail: "boom" });
    recorder.snapshot("s", JSON.stringify(live(2)), 13);
    recorder.close();
    recorder.close();
    const records = lines(file);
    assert.deepEqual(
      records.map((r) => r.type),
      ["header", "statecharts", "snapshot", "event", "snapshot"],
    );
    assert.equal((records[0] as { palmTrace: number }).palmTrace, 1);
  });

  it("rotates at maxBytes, so the trace on disk stays bounded and each file replays on its own", () => {
    const file = join(dir, "rotating.jsonl");
    const recorder = new TraceRecorder({ file, maxBytes: 4096 });
    recorder.statecharts("s", {}, 0);
    for (let i = 0; i < 400; i++) {
      recorder.snapshot("s", JSON.stringify(live(i)), i);
      recorder.event("s", { type: "part.state", part: "Pull", at: i, detail: `state ${i}` });
      recorder.flush();
    }
    recorder.close();
    assert.ok(existsSync(`${file}.1`));
    assert.ok(statSync(file).size <= 4096 && statSync(`${file}.1`).size <= 4096);
    const types = lines(file).map((r) => r.type);
    assert.deepEqual(types.slice(0, 3), ["header", "statecharts", "snapshot"]);
    const { records } = readTraces([file]);
    assert.equal(records.at(-1)?.type, "event");
  });

  it("merges traces of several processes by time, keeping the files' order of processes", () => {
    const a = join(dir, "a.jsonl");
    const b = join(dir, "b.jsonl");
    const header = JSON.stringify({ type: "header", palmTrace: 1, at: 0, pid: 1 });
    const event = (process: string, at: number) =>
      JSON.stringify({ type: "event", process, at, event: { type: "part.started", part: "Pull", at } });
    writeFileSync(a, [header, event("master", 5), event("master", 20)].join("\n"));
    // A trace cut off by a crash ends in a partial line: it is ignored.
    writeFileSync(b, [header, event("w1", 1), event("w1", 10), '{"type":"ev'].join("\n"));
    const { records, processes } = readTraces([a, b]);
    assert.deepEqual(processes, ["master", "w1"]);
    assert.deepEqual(
      records.map((r) => `${(r as { process: string }).process}@${r.at}`),
      ["w1@1", "master@5", "w1@10", "master@20"],
    );
  });

  it("refuses a file that is not a palm trace, or of a later version", () => {
    const later = join(dir, "later.jsonl");
    writeFileSync(later, `${JSON.stringify({ type: "header", palmTrace: 2, at: 0, pid: 1 })}\n`);
    assert.throws(
      () => readTraces([later]),
      (error) => isPalmError(error) && /version 2/.test(error.message),
    );
    const other = join(dir, "other.jsonl");
    writeFileSync(other, '{"hello":1}\n{"hello":2}\n{"hello":3}\n');
    assert.throws(
      () => readTraces([other]),
      (error) => isPalmError(error) && /header/.test(error.message),
    );
  });
});

describe("message hops and the redact hook", () => {
  it("previews the first bytes as text, or as hex when not printable", () => {
    assert.equal(previewBytes(Buffer.from("hello")), "hello");
    assert.equal(previewBytes(Uint8Array.of(0, 1, 255)), "0x0001ff");
    assert.equal(previewBytes(Buffer.from("x".repeat(40))), `${"x".repeat(32)}…`);
  });

  it("shows what redact returns, hides the payload on null or a throwing hook, and always the size", () => {
    const message = createMessage({
      id: "m1",
      client: "c",
      function: "s.f",
      payload: Buffer.from("password=hunter2"),
    });
    assert.equal(messageHop(message, "in", undefined).preview, "password=hunter2");
    assert.equal(messageHop(message, "in", () => null).preview, "[redacted]");
    assert.equal(messageHop(message, "in", () => "password=***").preview, "password=***");
    const throwing = messageHop(message, "out", () => {
      throw new Error("hook bug");
    });
    assert.deepEqual(throwing, {
      id: "m1",
      direction: "out",
      client: "c",
      function: "s.f",
      stage: 0,
      size: 16,
      preview: "[redacted]",
    });
  });

  it("names the function of the message's stage, and falls back to the cache key for an id", () => {
    const hop = messageHop(
      createMessage({ cache: "k9", function: "a.f b.g", stage: 1, error: "bad" }),
      "in",
      undefined,
    );
    assert.equal(hop.id, "k9");
    assert.equal(hop.function, "b.g");
    assert.equal(hop.error, "bad");
  });
});

describe("the inspect option", () => {
  it("is checked at construction, naming the option at fault", () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ port: 0, recrod: "x" }, /inspect\.recrod/],
      [{ port: 0, record: "" }, /inspect\.record/],
      [{ port: 0, redact: "no" }, /inspect\.redact/],
      [{ port: 0, maxHopsPerSecond: -1 }, /inspect\.maxHopsPerSecond/],
      [{ port: 70000 }, /inspect\.port/],
    ];
    for (const [value, pattern] of bad) {
      assert.throws(
        () => checkInspectOptions(value),
        (error) =>
          isPalmError(error) && error.code === "PALM_ERR_OPTION_INVALID" && pattern.test(error.message),
      );
    }
    assert.throws(
      () => new Worker({ name: "w", dbAddress: "tcp://127.0.0.1:1", inspect: { port: 0, host: "" } }),
      (error) => isPalmError(error) && /inspect\.host/.test(error.message),
    );
  });

  it("records a Master's message hops up to maxHopsPerSecond and says what it left out", async () => {
    const [pull, pub, workerPull, workerPush, db] = await freeEndpoints(5);
    const file = join(dir, "master.jsonl");
    const master = new Master({
      name: "traced",
      pullAddress: pull!,
      pubAddress: pub!,
      workerPullAddress: workerPull!,
      workerPushAddress: workerPush!,
      dbAddress: db!,
      logLevel: "silent",
      inspect: { port: 0, record: file, maxHopsPerSecond: 20 },
    });
    await master.start();
    const worker = new Worker({
      name: "w",
      dbAddress: db!,
      logLevel: "silent",
      functions: { echo: (p) => p },
    });
    await worker.start();
    const client = new Client({ serverName: "traced", dbAddress: db!, logLevel: "silent" });
    await client.start();
    const MESSAGES = 50;
    let results = 0;
    for await (const _ of client.job(
      "traced.echo",
      Array.from({ length: MESSAGES }, (_, i) => Buffer.from(`m${i}`)),
    ))
      results++;
    assert.equal(results, MESSAGES);
    // A pause is reported when its window ends (200 ms): let the one the job ran in end before stopping.
    await new Promise((resolve) => setTimeout(resolve, 400));
    await client.stop();
    await worker.stop();
    await master.stop();
    const events = readTraces([file]).records.flatMap((r) => (r.type === "event" ? [r.event] : []));
    const shown = events.filter((e) => e.type === "message.hop").length;
    const sampled = events.filter((e) => e.type === "messages.sampled");
    const gaps = sampled.flatMap((e) => {
      const gap = /not followed for (\d+) ms \(parts passed (\d+) messages/.exec(e.detail ?? "");
      return gap ? [gap] : [];
    });
    assert.ok(gaps.length > 0, "the cap paused the following at least once");
    for (const gap of gaps) assert.ok(Number(gap[1]) >= 1, `a pause says how long it lasted: ${gap.input}`);
    const unseen = gaps.reduce((sum, gap) => sum + Number(gap[2]), 0);
    assert.ok(unseen > 0, "messages passed while hops were not followed, and were counted");
    // Each window of 200 ms shows at most its share (20 a second: 4); the first window is filled at once.
    const first = events.find((e) => e.type === "message.hop")?.at ?? 0;
    const inFirstWindow = events.filter((e) => e.type === "message.hop" && e.at < first + 200).length;
    assert.ok(inFirstWindow <= 4, `the first window showed ${inFirstWindow} hops, at most 4`);
    assert.ok(shown < MESSAGES * 8, `the cap held hops back (${shown} shown)`);
  });
});
