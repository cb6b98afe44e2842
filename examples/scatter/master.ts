// A Master whose `scatter` turns every client message into three messages for the workers (pylm's examples/scatter).
import type { PalmMessage } from "palm-actors";
import { Master } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

class MyMaster extends Master {
  override *scatter(message: PalmMessage): Iterable<PalmMessage> {
    for (let i = 0; i < 3; i++) yield message;
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
