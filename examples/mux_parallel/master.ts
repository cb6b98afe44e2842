// A plain Master; its MuxWorkers send two results per message (pylm's examples/mux_parallel).
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
