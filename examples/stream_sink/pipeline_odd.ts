// Takes the odd messages and passes its results on to the next stage (the sink), not to the client.
import { Pipeline } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

class MyPipeline extends Pipeline {
  foo(message: Uint8Array): Uint8Array {
    return Buffer.concat([Buffer.from("and I pipelined (odd) "), message]);
  }
}

const { db, pub } = addresses(3);
await serve(
  new MyPipeline({
    name: "my_pipeline",
    dbAddress: db,
    subAddress: addresses(1).pub,
    pubAddress: pub,
    previous: "odd",
    toClient: false,
  }),
);
