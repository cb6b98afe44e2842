// A Master whose cache service clients and workers share (pylm's examples/cache).
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
