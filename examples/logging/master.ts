// Log levels (pylm's examples/logging): this master logs at `warn` and above only, so its start-up
// `info` lines are not printed but the `fatal` line from `gather` is. Logs are pino JSON lines on stderr.
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
    if (this.counter === 30) {
      // pylm's `critical` is pino's `fatal`.
      this.logger.fatal("Changing the payload of the message");
      yield changePayload(message, Buffer.from("final message"));
    } else yield message;
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
    logLevel: "warn",
  }),
);
