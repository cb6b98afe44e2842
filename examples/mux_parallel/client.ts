// Sends ten messages and waits for twenty results: two per message.
import { Client } from "palm-actors";
import { addresses } from "../addresses.js";

const client = new Client({ serverName: "server", dbAddress: addresses().db });
await client.start();
const results: string[] = [];
const payloads = Array.from({ length: 10 }, (_, i) => Buffer.from(`message ${i}`));
for await (const result of client.job("server.foo", payloads, { messages: 20 })) {
  results.push(result instanceof Error ? `error: ${result.message}` : Buffer.from(result).toString());
}
await client.stop();
// Which worker ran which message varies: print the results without the worker's name, sorted.
for (const line of results.map((r) => r.replace(/^\S+ /, "")).sort()) console.log(line);
