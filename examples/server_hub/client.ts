// One call, two steps: `server.foo` in the server, then `hub.foo` in one of the hub's workers.
import { Client } from "palm-actors";
import { addresses } from "../addresses.js";

const client = new Client({ serverName: "server", dbAddress: addresses(1).db, subAddress: addresses(2).pub });
await client.start();
const result = await client.eval(["server.foo", "hub.foo"], Buffer.from("a message"));
await client.stop();
console.log(`Client got: ${Buffer.from(result).toString()}`);
