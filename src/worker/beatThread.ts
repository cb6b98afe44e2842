// The entry of a worker's heartbeat thread (see HeartbeatThread): it beats from its own DEALER, so a long
// synchronous call on the worker's main thread does not silence it, while a frozen process stops it too.
import { parentPort, workerData } from "node:worker_threads";
import * as zmq from "zeromq";
import { dispatchTags, encodeBeat } from "../dispatch/protocol.js";
import { BusyBoard } from "./busyBoard.js";
import type { BeatThreadData } from "./heartbeatThread.js";

/** A call that has run this long is reported in the beat (`busy`); shorter ones are ordinary work. */
const BUSY_REPORT_MS = 200;

const data = workerData as BeatThreadData;
const board = new BusyBoard(data.buffer, data.base);
const curve = data.curve;
const socket = new zmq.Dealer({
  routingId: `${data.id}#beat`,
  linger: 0,
  // Beats queue only to a live connection, and few of them: a master that comes back gets a fresh one,
  // not a backlog of stale ones.
  immediate: true,
  sendHighWaterMark: 4,
  ...(curve?.serverKey
    ? { curveServerKey: curve.serverKey, curvePublicKey: curve.publicKey, curveSecretKey: curve.secretKey }
    : {}),
});
let address = data.address;
socket.connect(address);

let seq = 0;
let sending = false;
const beat = () => {
  if (sending || socket.closed) return;
  const busy = board.read();
  const body = encodeBeat({
    id: data.id,
    seq: ++seq,
    ...(busy && busy.ms >= BUSY_REPORT_MS ? { busy } : {}),
  });
  sending = true;
  socket.send([dispatchTags.beat, body]).then(
    () => {
      sending = false;
    },
    () => {
      // Closed while the send waited for a connection: the thread is stopping.
      sending = false;
    },
  );
};
beat();
const timer = setInterval(beat, data.intervalMs);

const stop = () => {
  clearInterval(timer);
  socket.close();
  parentPort?.off("message", onMessage);
  parentPort?.close();
};
const onMessage = (message: unknown) => {
  if (message === "stop") stop();
  else if (typeof (message as { moveTo?: unknown } | null)?.moveTo === "string") {
    // The master came back at another address.
    try {
      socket.disconnect(address);
    } catch {
      // Not connected there (any more).
    }
    address = (message as { moveTo: string }).moveTo;
    socket.connect(address);
  }
};
parentPort?.on("message", onMessage);
