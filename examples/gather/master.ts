// A Master that scatters each message into three and, in `gather`, replaces the payload of the thirtieth
// result it returns (pylm's examples/gather).
import type { PalmMessage } from "palm-actors";
import { changePayload, Master } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

class MyMaster extends Master {
  counter = 0;

  override *scatter(message: PalmMessage): Iterable<PalmMessage> {
    for (let i = 0; i < 3; i++) yield message;
  }

  override *gather(message: PalmMessage): Iterable<PalmMessage> {
    this.counter++;
    if (this.counter === 30) yield changePayload(message, Buffer.from("final message"));
    else yield message;
  }
}

const { pull, pub, workerPull, workerPush, db } = addresses();

await serve(
  new MyMaster({
    name: "server",
    pullAddress: pull,
    pubAddress: pub,
    workerPullAddress: workerPull,
    workerPushAddress: workerPush,
    dbAddress: db,
  }),
);
