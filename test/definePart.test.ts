import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import * as zmq from "zeromq";
import { HttpConnection } from "../actors/connections/httpConnection.js";
import { PullService } from "../actors/services/pullService.js";
import { PushService } from "../actors/services/pushService.js";
import { createReaderBridge } from "../src/bridges/readerBridge.js";
import { socketPlan } from "../src/bridges/socketPlans.js";
import { msgpackCodec } from "../src/codec/index.js";
import { isPalmError } from "../src/errors.js";
import { createMessage } from "../src/message.js";
import { definePart, integerOption } from "../src/part.js";
import { ServerTemplate } from "../src/serverTemplate.js";
import { freeEndpoints } from "../src/testing/ports.js";

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

/** A PULL part of PullService's kind that puts its `tag` option before each payload. */
const prepared: unknown[] = [];
const TaggedPull = definePart<{ tag?: string; count?: number }>("TaggedPull", PullService, {
  summary: "Binds a PULL socket and tags what it pulls.",
  optionKeys: ["tag", "count"],
  bridge: createReaderBridge(socketPlan("pull", true), 1),
  checks: { count: integerOption(1, 3) },
  prepare: (environment) => {
    const tag = environment.options.tag;
    prepared.push(tag);
    environment.options.scatter = (message) => [
      { ...message, payload: Buffer.from(`${tag}:${text(message.payload)}`) },
    ];
  },
});

describe("definePart from a kind", () => {
  it("takes the kind's classification and machine, and only the spec's summary and options", () => {
    const { role, blocking, service, scheme, machine } = PullService;
    assert.deepEqual(
      { ...TaggedPull, build: undefined },
      {
        partType: "TaggedPull",
        role,
        blocking,
        service,
        scheme,
        machine,
        summary: "Binds a PULL socket and tags what it pulls.",
        optionKeys: ["tag", "count"],
        build: undefined,
      },
    );
    assert.ok(Object.isFrozen(TaggedPull));
    assert.throws(
      () => definePart("NoBridge", PullService, { summary: "x" }),
      /part NoBridge: give it a bridge or a build/,
    );
    assert.throws(() => definePart("NoKind"), /part NoKind: give its kind and spec/);
  });

  it("runs its checks on the options set, then prepare, then its bridge over a real socket", async () => {
    const [pull, push] = await freeEndpoints(2);
    const bad = new ServerTemplate({ name: "s", logLevel: "silent" });
    bad.registerInbound(TaggedPull, "Tagged", pull!, { route: "Push", count: 4 });
    bad.registerOutbound(PushService, "Push", push!);
    await assert.rejects(
      bad.start(),
      (e) => isPalmError(e, "PALM_ERR_OPTION_INVALID") && /`count \(part "Tagged"\)`/.test(e.message),
    );
    await bad.stop();
    assert.deepEqual(prepared, [], "prepare never ran for options that failed their check");

    const server = new ServerTemplate({ name: "s", logLevel: "silent" });
    server.registerInbound(TaggedPull, "Tagged", pull!, { route: "Push", tag: "t", count: 2 });
    server.registerOutbound(PushService, "Push", push!);
    await server.start();
    cleanup.push(() => server.stop());
    const sink = new zmq.Pull();
    cleanup.push(() => sink.close());
    sink.connect(push!);
    const source = new zmq.Push();
    cleanup.push(() => source.close());
    source.connect(pull!);
    await source.send(msgpackCodec.encodeOne(createMessage({ payload: Buffer.from("a") })));
    const [frame] = await sink.receive();
    assert.deepEqual(
      msgpackCodec.decode(frame!).map((m) => text(m.payload)),
      ["t:a"],
    );
    assert.deepEqual(prepared, ["t"]);
  });

  it("names the part and the option when a spec's check fails (HttpConnection's maxWorkers)", async () => {
    const server = new ServerTemplate({ name: "s", logLevel: "silent" });
    server.registerOutbound(HttpConnection, "Http", "http://127.0.0.1:1", { maxWorkers: 0 });
    await assert.rejects(server.start(), /`maxWorkers \(part "Http"\)` to be a whole number from 1 to 1024/);
    await server.stop();
  });
});
