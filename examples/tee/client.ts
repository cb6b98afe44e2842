// Sends ten messages through `my_server`; pipeline_close answers all ten, while pipeline_echo prints them.
import { Client } from "palm-actors";
import { addresses } from "../addresses.js";

const client = new Client({
  serverName: "my_server",
  dbAddress: addresses(1).db,
  subAddress: addresses(2).pub,
});
await client.start();
const results: string[] = [];
const payloads = Array.from({ length: 10 }, (_, i) => Buffer.from(`message ${i}`));
for await (const result of client.job(["my_server.foo", "my_pipeline.foo"], payloads, { messages: 10 })) {
  results.push(result instanceof Error ? `error: ${result.message}` : Buffer.from(result).toString());
}
await client.stop();
for (const line of results.sort()) console.log(`Client got: ${line}`);
