// A pipelined Master (pylm's examples/master_pipeline): its workers' results go to a Pipeline, not to the client.
import { Master } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

const { pull, pub, workerPull, workerPush, db } = addresses();

await serve(
  new Master({
    name: "server",
    pullAddress: pull,
    pubAddress: pub,
    workerPullAddress: workerPull,
    workerPushAddress: workerPush,
    dbAddress: db,
    pipelined: true,
  }),
);
