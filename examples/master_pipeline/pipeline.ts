// The serial step after the parallel one: subscribes to `server` and publishes to the client.
import { Pipeline } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

class MyPipeline extends Pipeline {
  foo(message: Uint8Array): Uint8Array {
    return Buffer.concat([Buffer.from("and I pipelined "), message]);
  }
}

const { db, pub } = addresses(2);
await serve(
  new MyPipeline({
    name: "my_pipeline",
    dbAddress: db,
    subAddress: addresses(1).pub,
    pubAddress: pub,
    previous: "server",
    toClient: true,
  }),
);
