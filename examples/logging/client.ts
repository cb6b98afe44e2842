// Stores the value the workers read, sends ten messages and waits for the thirty results.
import { Client } from "palm-actors";
import { addresses } from "../addresses.js";

const client = new Client({ serverName: "server", dbAddress: addresses().db });
await client.start();
await client.set(Buffer.from(" cached data "), "cached");
const results: string[] = [];
const payloads = Array.from({ length: 10 }, () => Buffer.from("a message"));
for await (const result of client.job("server.foo", payloads, { messages: 30 })) {
  results.push(result instanceof Error ? `error: ${result.message}` : Buffer.from(result).toString());
}
await client.stop();
console.log(`${results.length} results`);
console.log(`last: ${results.at(-1)}`);
