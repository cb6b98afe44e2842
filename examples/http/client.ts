// pylm's client for the http example: a job of 10 messages through the master and its HTTP worker.
import { Client } from "palm-actors";
import { addresses } from "../addresses.js";

const client = new Client({ serverName: "server", dbAddress: addresses().db });
await client.start();
const payloads = Array.from({ length: 10 }, () => Buffer.from("a message"));
for await (const result of client.job("server.foo", payloads, { messages: 10 })) {
  console.log(result instanceof Error ? `error: ${result.message}` : Buffer.from(result).toString());
}
await client.stop();
