// A Hub: a master fed by the server's publisher (topic `server`) instead of by clients; its workers run
// `hub.foo` and the results go to the client.
import { Hub } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

const { pub, workerPull, workerPush, db } = addresses(2);
await serve(
  new Hub({
    name: "hub",
    subAddress: addresses(1).pub,
    pubAddress: pub,
    workerPullAddress: workerPull,
    workerPushAddress: workerPush,
    dbAddress: db,
    previous: "server",
    pipelined: false,
  }),
);
