// Also gets every message of `my_server`, and only prints it: its function returns nothing, so it publishes nothing.
import { Pipeline } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

class MyPipeline extends Pipeline {
  foo(message: Uint8Array): void {
    console.log(`echo: ${Buffer.from(message).toString()}`);
  }
}

const { db, pub } = addresses(3);
await serve(
  new MyPipeline({
    name: "my_pipeline",
    dbAddress: db,
    subAddress: addresses(1).pub,
    pubAddress: pub,
    previous: "my_server",
    toClient: true,
  }),
);
