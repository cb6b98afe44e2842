// A server whose function has a bug (pylm's examples/error): the error is logged with its stack, the
// client gets a RemoteError, and the server keeps serving.
import { Server } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

class MyServer extends Server {
  settings: Record<string, string> = {};

  foo(message: Uint8Array): Uint8Array {
    this.logger.warn("Got a message");
    // The bug: `prefix` was never set (pylm's example prints an undefined variable).
    const prefix = this.settings.prefix as string;
    return Buffer.concat([Buffer.from(prefix.toUpperCase()), message]);
  }
}

const { pull, pub, db } = addresses();
await serve(new MyServer({ name: "my_server", dbAddress: db, pullAddress: pull, pubAddress: pub }));
