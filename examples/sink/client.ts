// Two clients, one per stream, both listening to the sink: five messages through each stream, ten
// results out of one sink.
import { Client } from "palm-actors";
import { addresses } from "../addresses.js";

const sinkPub = addresses(4).pub;
const results: string[] = [];
await Promise.all(
  [1, 2].map(async (group) => {
    const client = new Client({
      serverName: `stream${group}`,
      dbAddress: addresses(group).db,
      subAddress: sinkPub,
    });
    await client.start();
    const payloads = Array.from({ length: 5 }, (_, i) => Buffer.from(`message ${i}`));
    for await (const result of client.job([`stream${group}.foo`, "my_sink.foo"], payloads)) {
      results.push(result instanceof Error ? `error: ${result.message}` : Buffer.from(result).toString());
    }
    await client.stop();
  }),
);
for (const line of results.sort()) console.log(`Client got: ${line}`);
