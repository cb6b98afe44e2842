import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as zmq from "zeromq";
import { Server } from "../actors/servers/server.js";
import { msgpackCodec } from "../src/codec/index.js";
import { createMessage } from "../src/message.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { until } from "../src/testing/until.js";
import { waitForState } from "../src/testing/waitForState.js";

describe("a Streams part that crashes", () => {
  it("keeps what waited for a client whose stream was full: its restart sends it on, each result once", async () => {
    const [db, pull, pub] = await freeEndpoints(3);
    const server = new Server({
      name: "server",
      dbAddress: db!,
      pullAddress: pull!,
      pubAddress: pub!,
      slowConsumerMs: 600_000,
      highWaterMark: 2,
      logLevel: "silent",
    });
    await server.start();
    const id = "slow-client";
    // A receive that waits 30 s fails the test instead of hanging it (what it waits for was lost).
    const dealer = new zmq.Dealer({
      routingId: id,
      receiveHighWaterMark: 2,
      receiveTimeout: 30_000,
      linger: 0,
    });
    const push = new zmq.Push({ linger: 0 });
    try {
      const streamAddress = Buffer.from(
        (await server.template.cache.get("result_stream_address"))!,
      ).toString();
      dealer.connect(streamAddress);
      await dealer.send(["hello", "100000"]);
      const [welcome] = await dealer.receive();
      assert.equal(welcome!.toString(), "welcome");
      // 100 results of 256 KiB for a client that does not read yet: most of them wait in its stream.
      push.connect(pull!);
      const total = 100;
      const big = Buffer.alloc(256 * 1024, 1);
      for (let i = 0; i < total; i++) {
        const message = createMessage({ client: id, pipeline: id, function: "server.echo", payload: big });
        await push.send(msgpackCodec.encodeOne({ ...message, id: `${id}:${i}` }));
      }
      const streams = () => server.parts().find((part) => part.name === "Streams")!;
      await until(
        () => (streams().messagesOut === total ? true : undefined),
        60_000,
        () => `waiting for the Streams part to take all ${total} results (${streams().messagesOut})`,
      );
      assert.ok(server.crash("Streams"));
      await until(
        () => (streams().restarts === 1 ? true : undefined),
        30_000,
        () => "waiting for the Streams part's restart",
      );
      await waitForState(server, "Streams", "running", 30_000);
      // Reading now: every result, once, in order.
      const ids: string[] = [];
      while (ids.length < total) {
        const [tag, body] = await dealer.receive();
        assert.equal(tag!.toString(), "results");
        for (const result of msgpackCodec.decode(body!)) ids.push(result.id ?? "");
      }
      assert.deepEqual(
        ids,
        Array.from({ length: total }, (_, i) => `${id}:${i}`),
      );
    } finally {
      dealer.close();
      push.close();
      await server.stop();
    }
  });
});
