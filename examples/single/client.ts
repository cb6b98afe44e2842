// Calls `my_server.foo` once and prints the result.
import { Client } from "palm-actors";
import { addresses } from "../addresses.js";

const client = new Client({ serverName: "my_server", dbAddress: addresses().db });
await client.start();
const result = await client.eval("my_server.foo", Buffer.from("a message"));
await client.stop();
console.log(`Client got: ${Buffer.from(result).toString()}`);
