// A Master, built but not started: what `palm viz --server` draws. Building a server opens no socket.
import { Master } from "palm-actors";
import { addresses } from "../addresses.js";

const { pull, pub, workerPull, workerPush, db } = addresses();

export const master = new Master({
  name: "server",
  pullAddress: pull,
  pubAddress: pub,
  workerPullAddress: workerPull,
  workerPushAddress: workerPush,
  dbAddress: db,
});
