// The first step of a pipeline (pylm's examples/pipeline): a pipelined Server publishes its results under
// its own name, stage + 1, for the Pipeline to pick up.
import { Server } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

class MyServer extends Server {
  foo(message: Uint8Array): Uint8Array {
    return Buffer.concat([Buffer.from("you sent me "), message]);
  }
}

const { pull, pub, db } = addresses();
await serve(
  new MyServer({ name: "my_server", dbAddress: db, pullAddress: pull, pubAddress: pub, pipelined: true }),
);
