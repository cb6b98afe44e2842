// A Sink (pylm's examples/sink) gathers two streams into one: it subscribes to `stream1` and `stream2`
// (the addresses and topics are zipped), runs `my_sink.foo` and publishes to the clients.
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
    subAddresses: [addresses(1).pub, addresses(2).pub],
    previous: ["stream1", "stream2"],
    pubAddress: pub,
    toClient: true,
  }),
);
