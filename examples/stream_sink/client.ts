// Sends ten messages through server → even/odd pipelines → sink, and gets all ten back from the sink.
import { Client } from "palm-actors";
import { addresses } from "../addresses.js";

const client = new Client({
  serverName: "my_server",
  dbAddress: addresses(1).db,
  subAddress: addresses(4).pub,
});
await client.start();
const results: string[] = [];
const payloads = Array.from({ length: 10 }, (_, i) => Buffer.from(`message ${i}`));
const steps = ["my_server.foo", "my_pipeline.foo", "my_sink.foo"];
for await (const result of client.job(steps, payloads, { messages: 10 })) {
  results.push(result instanceof Error ? `error: ${result.message}` : Buffer.from(result).toString());
}
await client.stop();
for (const line of results.sort()) console.log(`Client got: ${line}`);
