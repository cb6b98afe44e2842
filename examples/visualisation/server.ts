// A Master, built but not started: what `palm viz --server` draws. Building a server opens no socket.
import { Master } from "../../src/index.js";
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
