// Sends ten messages, waits for the thirty results and shows that the last one was changed by `gather`.
import { Client } from "palm-actors";
import { addresses } from "../addresses.js";

const client = new Client({ serverName: "server", dbAddress: addresses().db });
await client.start();
const results: string[] = [];
const payloads = Array.from({ length: 10 }, () => Buffer.from("a message"));
for await (const result of client.job("server.foo", payloads, { messages: 30 })) {
  results.push(result instanceof Error ? `error: ${result.message}` : Buffer.from(result).toString());
}
await client.stop();
console.log(`${results.length} results`);
console.log(`${results.filter((r) => r.endsWith(" processed a message")).length} processed by the workers`);
console.log(`last: ${results.at(-1)}`);
