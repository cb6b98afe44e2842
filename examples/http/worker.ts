// pylm's web worker: an HTTP server that takes a serialised message by POST, runs the function it names
// and answers the message with the result as payload. Standalone, one command (PALM_HTTP changes where):
//   npx tsx examples/http/worker.ts            # listens on http://127.0.0.1:8888
import { HttpWorker } from "palm-actors";
import { serve } from "../serve.js";

class MyWorker extends HttpWorker {
  foo(payload: Uint8Array): Uint8Array {
    return Buffer.concat([payload, Buffer.from(" processed online")]);
  }

  echo(payload: Uint8Array): Uint8Array {
    return payload;
  }
}

await serve(new MyWorker({ address: process.env.PALM_HTTP || "http://127.0.0.1:8888" }));
