// One of the two pipelined Servers a Sink gathers from. Usage: server.ts <1|2> — the server is named
// `stream1` or `stream2` and uses address group 1 or 2 (see ../addresses.ts).
import { Server } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

const group = process.argv[2] === "2" ? 2 : 1;
const name = `stream${group}`;

class MyServer extends Server {
  foo(message: Uint8Array): Uint8Array {
    return Buffer.concat([Buffer.from(`${name} sent you `), message]);
  }
}

const { pull, pub, db } = addresses(group);
await serve(new MyServer({ name, dbAddress: db, pullAddress: pull, pubAddress: pub, pipelined: true }));
