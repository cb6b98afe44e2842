// The first step (pylm's examples/server_hub): a pipelined Server whose results go to the Hub.
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
  new MyServer({ name: "server", dbAddress: db, pullAddress: pull, pubAddress: pub, pipelined: true }),
);
