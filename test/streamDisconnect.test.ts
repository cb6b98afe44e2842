import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { afterEach, describe, it } from "node:test";
import * as zmq from "zeromq";
import { registerResultStreams } from "../actors/services/streamService.js";
import { ServerTemplate } from "../src/serverTemplate.js";
import { streamTags } from "../src/streams/protocol.js";
import { freeEndpoints } from "../src/testing/ports.js";

// A client killed (no `bye`) must not be remembered by the server for ever: its `Streams` part forgets
// it when its connection drops, so clients that come and go without saying goodbye cost no memory.

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A raw client stream: a DEALER with `id` that says hello and waits for the welcome. */
async function openStream(address: string, id: string): Promise<zmq.Dealer> {
  const dealer = new zmq.Dealer({ routingId: id, linger: 0 });
  dealer.connect(address);
  await dealer.send([streamTags.hello, "10"]);
  const [tag] = await dealer.receive();
  assert.equal(tag?.toString(), "welcome");
  return dealer;
}

/** A server with only a `Streams` part, and one client ("stays") whose stream is open. */
async function streamsWithOneClient() {
  const [pub, streams] = await freeEndpoints(2);
  const server = new ServerTemplate({ name: "server", logLevel: "silent" });
  const link = registerResultStreams(server, pub!, { address: streams });
  await server.start();
  closers.push(() => server.stop());
  const stays = await openStream(streams!, "stays");
  closers.push(() => stays.close());
  return { server, link, streams: streams! };
}

describe("Streams forgets clients whose connection dropped", () => {
  it("forgets a stream whose client vanished without a bye, and keeps the one still connected", async () => {
    const { server, link, streams } = await streamsWithOneClient();
    const vanishes = await openStream(streams, "vanishes");
    assert.deepEqual([...link.streamClients.keys()].sort(), ["stays", "vanishes"]);
    vanishes.close(); // as a killed process: the connection drops, no bye was said
    await until(() => !link.streamClients.has("vanishes"), "the vanished client is forgotten");
    assert.deepEqual([...link.streamClients.keys()], ["stays"]);
    const streamsPart = server.parts().find((part) => part.name === "Streams")!;
    assert.equal(streamsPart.badFrames, 0, "the disconnect notice is no bad input");
    assert.equal(streamsPart.restarts, 0);
  });

  it("forgets the streams of 5 client processes SIGKILLed after their welcome", async () => {
    const { link, streams } = await streamsWithOneClient();
    // Each process opens its stream as a palm client does, says it was welcomed, and waits to be killed.
    const script = `
      import * as zmq from "zeromq";
      const dealer = new zmq.Dealer({ routingId: process.argv[1], linger: 0 });
      dealer.connect(${JSON.stringify(streams)});
      await dealer.send(["hello", "10"]);
      const [tag] = await dealer.receive();
      console.log(String(tag));
      setInterval(() => dealer.closed, 1000); // keeps the socket from being collected`;
    const children = Array.from({ length: 5 }, (_, i) =>
      spawn(process.execPath, ["--input-type=module", "-e", script, `killed-${i}`], {
        stdio: ["ignore", "pipe", "inherit"],
      }),
    );
    for (const child of children) closers.push(() => child.kill("SIGKILL"));
    await Promise.all(
      children.map(
        (child) => new Promise((resolve) => child.stdout!.once("data", (data) => resolve(String(data)))),
      ),
    );
    assert.equal(link.streamClients.size, 6);
    await Promise.all(
      children.map((child) => {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        process.kill(child.pid!, "SIGKILL");
        return exited;
      }),
    );
    await until(() => link.streamClients.size === 1, "the killed clients are forgotten");
    assert.deepEqual([...link.streamClients.keys()], ["stays"]);
  });
});
