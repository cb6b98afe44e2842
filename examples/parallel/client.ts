// Sends ten messages to `server.foo` as one job and prints the ten results.
import { Client } from "palm-actors";
import { addresses } from "../addresses.js";

const client = new Client({ serverName: "server", dbAddress: addresses().db });
await client.start();
const results: string[] = [];
const payloads = Array.from({ length: 10 }, () => Buffer.from("a message"));
for await (const result of client.job("server.foo", payloads, { messages: 10 })) {
  results.push(result instanceof Error ? `error: ${result.message}` : Buffer.from(result).toString());
}
await client.stop();
// Which worker ran which message varies from run to run: print them sorted.
for (const line of results.sort()) console.log(line);
