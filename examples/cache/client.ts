// Stores a value in the master's cache, reads it back, then runs a job whose workers read it too.
import { Client } from "palm-actors";
import { addresses } from "../addresses.js";

const client = new Client({ serverName: "server", dbAddress: addresses().db });
await client.start();
await client.set(Buffer.from(" cached data "), "cached");
console.log(JSON.stringify(Buffer.from(await client.get("cached")).toString()));
const results: string[] = [];
const payloads = Array.from({ length: 10 }, () => Buffer.from("a message"));
for await (const result of client.job("server.foo", payloads, { messages: 10 })) {
  results.push(result instanceof Error ? `error: ${result.message}` : Buffer.from(result).toString());
}
await client.stop();
for (const line of results.sort()) console.log(line);
