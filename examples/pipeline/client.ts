// Pushes to `my_server` and listens to the pipeline's publisher: one call, two steps.
import { Client } from "palm-actors";
import { addresses } from "../addresses.js";

const client = new Client({
  serverName: "my_server",
  dbAddress: addresses(1).db,
  subAddress: addresses(2).pub,
});
await client.start();
const result = await client.eval(["my_server.foo", "my_pipeline.foo"], Buffer.from("a message"));
await client.stop();
console.log(`Client got: ${Buffer.from(result).toString()}`);
