// Joins the even and the odd halves again: subscribes to both pipelines (topic `my_pipeline` at each)
// and publishes to the client.
import { Sink } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

class MySink extends Sink {
  foo(message: Uint8Array): Uint8Array {
    return Buffer.concat([Buffer.from("and gathered "), message]);
  }
}

const { db, pub } = addresses(4);
await serve(
  new MySink({
    name: "my_sink",
    dbAddress: db,
    subAddresses: [addresses(2).pub, addresses(3).pub],
    previous: ["my_pipeline", "my_pipeline"],
    pubAddress: pub,
    toClient: true,
  }),
);
