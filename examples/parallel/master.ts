// A Master that hands work to any number of workers and returns their results (pylm's examples/parallel).
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
  }),
);
