// A pipelined Server whose `handleStream` sends even messages to topic `even` and odd ones to `odd`
// (pylm's examples/stream_sink): two pipelines take one half each, and a Sink joins the halves.
import type { PalmMessage, StreamItem } from "palm-actors";
import { Server } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

class MyServer extends Server {
  counter = 0;

  foo(message: Uint8Array): Uint8Array {
    return Buffer.concat([Buffer.from("you sent me "), message]);
  }

  override handleStream(message: PalmMessage): StreamItem {
    const topic = this.counter % 2 === 0 ? "even" : "odd";
    this.counter++;
    // Remember to move the stage on: the next server runs the next function.
    return { topic, message: { ...message, stage: message.stage + 1 } };
  }
}

const { pull, pub, db } = addresses();
await serve(
  new MyServer({ name: "my_server", dbAddress: db, pullAddress: pull, pubAddress: pub, pipelined: true }),
);
