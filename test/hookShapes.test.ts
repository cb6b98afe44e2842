import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Client } from "../actors/client.js";
import type { MasterOptions } from "../actors/servers/master.js";
import { Server } from "../actors/servers/server.js";
import { CacheService } from "../actors/services/cacheService.js";
import { PubService } from "../actors/services/pubService.js";
import { PullService } from "../actors/services/pullService.js";
import { RemoteError } from "../src/errors.js";
import type { PalmMessage } from "../src/message.js";
import type { StreamItem } from "../src/part.js";
import { ServerTemplate } from "../src/serverTemplate.js";
import { freeEndpoints } from "../src/testing/ports.js";
import { startMaster } from "../src/testing/startMaster.js";

// A user's scatter hook that returns something other than messages fails its own part with an error that
// says what it returned. Before, the non-messages were routed on: the next part failed on them, and again
// after each restart (they were redelivered), until the whole server escalated and stopped.

const stoppers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stoppers.splice(0).reverse()) await stop();
});

const WRONG: Record<string, (message: PalmMessage) => unknown> = {
  number: () => 42,
  null: () => null,
  items: () => [1, "x"],
  "text payload": (message) => [{ ...message, payload: "not bytes" }],
};

/**
 * A server of the user's own (Pull → Pub, with `hooks`) and a client of it, both running: the parts'
 * failures are noted as they come, and whether the server escalated.
 */
async function ownServer(
  hooks: {
    scatter?: (message: PalmMessage) => Iterable<PalmMessage>;
    handleStream?: (message: PalmMessage) => StreamItem;
  },
  timeoutMs: number,
) {
  const [pull, pub, db] = await freeEndpoints(3);
  const server = new ServerTemplate({ name: "server", logLevel: "silent" });
  server.registerInbound(PullService, "Pull", pull!, {
    route: "Pub",
    ...(hooks.scatter ? { scatter: hooks.scatter } : {}),
  });
  server.registerOutbound(
    PubService,
    "Pub",
    pub!,
    hooks.handleStream ? { handleStream: hooks.handleStream } : {},
  );
  server.registerBypass(CacheService, "Cache", db!);
  server.presetCache({ name: "server", db_address: db!, pull_address: pull!, pub_address: pub! });
  const failures: string[] = [];
  server.on("part.failed", (event) => failures.push(`${event.part}: ${String(event.error)}`));
  let escalated = false;
  void server.failed.then(() => {
    escalated = true;
  });
  await server.start();
  stoppers.push(() => server.stop());
  const client = new Client({ serverName: "server", dbAddress: db!, logLevel: "silent", timeoutMs });
  await client.start();
  stoppers.push(() => client.stop());
  return { server, client, failures, escalated: () => escalated };
}

/**
 * Runs a job of `MIXED` through `ownServer(hooks)`, which loses one of the five: the results that came
 * (each as text, or an error's code) before the job timed out. The server and its client go on running.
 */
async function ownServerJob(hooks: Parameters<typeof ownServer>[0]) {
  const own = await ownServer(hooks, 1500);
  const results: string[] = [];
  await assert.rejects(
    async () => {
      for await (const result of own.client.job("server.x", MIXED))
        results.push(result instanceof RemoteError ? result.code : Buffer.from(result).toString());
    },
    { code: "PALM_ERR_TIMEOUT", message: /4 of 5 received/ },
  );
  return { ...own, results };
}

describe("a scatter hook returning the wrong shape", () => {
  it("fails only its own part, naming what it returned; the server keeps serving", async () => {
    const scatter = (message: PalmMessage) => {
      const wrong = WRONG[Buffer.from(message.payload).toString()];
      return (wrong ? wrong(message) : [message]) as Iterable<PalmMessage>;
    };
    const { server, client, failures, escalated } = await ownServer({ scatter }, 20_000);
    // Each wrong answer loses its own message (its part fails and restarts), so its eval is not awaited;
    // once the part has failed, a good message is answered.
    for (const [i, kind] of Object.keys(WRONG).entries()) {
      void client.eval("server.x", Buffer.from(kind)).catch(() => undefined);
      const deadline = Date.now() + 20_000;
      while (failures.length <= i && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(Buffer.from(await client.eval("server.x", Buffer.from("ok"))).toString(), "ok");
    }
    assert.deepEqual(
      failures.map((f) => f.replace(/PalmError: /, "")),
      [
        "Pull: The scatter hook returned `42` (number): it must return an iterable of messages",
        "Pull: The scatter hook returned `null`: it must return an iterable of messages",
        "Pull: The scatter hook returned `1` (number) among its messages: each must have a `function` (string) and a `payload` (bytes)",
        "Pull: The scatter hook returned an Object among its messages: each must have a `function` (string) and a `payload` (bytes)",
      ],
    );
    const pub_ = server.parts().find((part) => part.name === "Pub")!;
    assert.equal(pub_.restarts, 0, "nothing wrong reached the publisher");
    assert.equal(escalated(), false);
  });
});

/** Five payloads, the third of which the hooks below refuse. */
const MIXED = ["a", "b", "bad", "c", "d"].map((p) => Buffer.from(p));
const isBad = (message: PalmMessage) => Buffer.from(message.payload).toString() === "bad";

/**
 * Runs a job of `MIXED` through a Master with `master`'s hooks and one echo worker: each result as text
 * (an error as its code and cause), sorted, and the restarts of the Master's parts.
 */
async function masterJob(master: Partial<MasterOptions>): Promise<{ results: string[]; restarts: number }> {
  const cluster = await startMaster({ workers: 1, master });
  try {
    const results: string[] = [];
    for await (const result of cluster.client.job("server.echo", MIXED)) {
      results.push(
        result instanceof RemoteError
          ? `${result.code} ${result.remoteCause}`
          : Buffer.from(result).toString(),
      );
    }
    const restarts = cluster.master.template.parts().reduce((sum, part) => sum + part.restarts, 0);
    return { results: results.sort(), restarts };
  } finally {
    await cluster.stop();
  }
}

describe("a scatter hook that throws on one message of a batch", () => {
  const scatter = (message: PalmMessage): Iterable<PalmMessage> => {
    if (isBad(message)) throw new Error("no bad payloads");
    return [message];
  };

  it("loses only that message: the rest of the batch goes on, then its part fails and restarts", async () => {
    // The five go out as one frame, one batch for the Pull part: before, all five were lost with it.
    const { server, results, failures } = await ownServerJob({ scatter });
    assert.deepEqual(results.sort(), ["a", "b", "c", "d"]);
    assert.deepEqual(failures, ["Pull: PalmError: The scatter hook threw"]);
    assert.equal(server.parts().find((part) => part.name === "Pull")?.restarts, 1);
  });

  it("in a Master, answers that message with PALM_ERR_PART_HOOK and routes the rest", async () => {
    const { results, restarts } = await masterJob({ scatter });
    assert.deepEqual(results, [
      "PALM_ERR_PART_HOOK PALM_ERR_PART_HOOK: scatter threw Error: no bad payloads",
      "a",
      "b",
      "c",
      "d",
    ]);
    assert.equal(restarts, 0, "no part of the master failed");
  });
});

describe("a handleStream hook that throws or answers wrongly for one result", () => {
  it("on a part of a user's own server, loses only that result, once: its part fails and restarts, the server serves on", async () => {
    const handleStream = (message: PalmMessage) => {
      if (isBad(message)) throw new Error("no topic for this one");
      return { topic: message.client ?? "", message };
    };
    // Before, the publisher failed on the whole batch, was handed it again after each restart and failed
    // again, until the server escalated and stopped: all five were lost, and every call after them.
    const { server, client, results, failures, escalated } = await ownServerJob({ handleStream });
    assert.deepEqual(results.sort(), ["a", "b", "c", "d"]);
    assert.equal(failures.length, 1, failures.join("\n"));
    assert.match(
      failures[0]!,
      /^Pub: PalmError: The handleStream hook threw Error: no topic for this one for message \S+#2 \(server\.x\); the message was not published$/,
    );
    assert.equal(Buffer.from(await client.eval("server.x", Buffer.from("ok"))).toString(), "ok");
    assert.equal(server.parts().find((part) => part.name === "Pub")?.restarts, 1);
    assert.equal(escalated(), false);
  });

  it("in a Master, fails that result with PALM_ERR_PART_HOOK; the publisher goes on", async () => {
    const handleStream = (message: PalmMessage) => {
      if (isBad(message)) throw new Error("no topic for this one");
      return { topic: message.client, message };
    };
    const { results, restarts } = await masterJob({ handleStream });
    assert.deepEqual(results, [
      "PALM_ERR_PART_HOOK PALM_ERR_PART_HOOK: handleStream threw Error: no topic for this one",
      "a",
      "b",
      "c",
      "d",
    ]);
    assert.equal(restarts, 0, "no part of the master failed");
  });

  it("in a Server, answers with PALM_ERR_PART_HOOK naming what came back, and serves the next call", async () => {
    const [pullAddress, pubAddress, dbAddress] = await freeEndpoints(3);
    const server = new Server({
      name: "server",
      pullAddress: pullAddress!,
      pubAddress: pubAddress!,
      dbAddress: dbAddress!,
      logLevel: "silent",
      handleStream: (message) =>
        (isBad(message) ? 42 : { topic: message.client, message }) as unknown as StreamItem,
    });
    await server.start();
    stoppers.push(() => server.stop());
    const client = new Client({ serverName: "server", dbAddress: dbAddress!, logLevel: "silent" });
    await client.start();
    stoppers.push(() => client.stop());
    await assert.rejects(client.eval("server.echo", Buffer.from("bad")), {
      code: "PALM_ERR_PART_HOOK",
      message: /handleStream returned `42` \(number\): it must return \{ topic, message \}/,
    });
    assert.equal(Buffer.from(await client.eval("server.echo", Buffer.from("ok"))).toString(), "ok");
    assert.equal(server.parts().find((part) => part.name === "Pub")?.restarts, 0);
  });
});
