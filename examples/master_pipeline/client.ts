// Ten messages through the master's workers and then the pipeline.
import { Client } from "palm-actors";
import { addresses } from "../addresses.js";

const client = new Client({ serverName: "server", dbAddress: addresses(1).db, subAddress: addresses(2).pub });
await client.start();
const results: string[] = [];
const payloads = Array.from({ length: 10 }, () => Buffer.from("a message"));
for await (const result of client.job(["server.foo", "my_pipeline.foo"], payloads, { messages: 10 })) {
  results.push(result instanceof Error ? `error: ${result.message}` : Buffer.from(result).toString());
}
await client.stop();
for (const line of results.sort()) console.log(line);
