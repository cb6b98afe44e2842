// A Server runs the functions clients call in its own process (pylm's examples/single).
import { Server } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

class MyServer extends Server {
  foo(message: Uint8Array): Uint8Array {
    this.logger.warn("Got a message");
    return Buffer.concat([Buffer.from("you sent me "), message]);
  }
}

const { pull, pub, db } = addresses();
await serve(new MyServer({ name: "my_server", dbAddress: db, pullAddress: pull, pubAddress: pub }));
