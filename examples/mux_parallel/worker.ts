// A MuxWorker: `foo` yields two results per message, each sent back on its own. Usage: worker.ts <name>
import { MuxWorker } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

class MyWorker extends MuxWorker {
  *foo(message: Uint8Array): Iterable<Uint8Array> {
    yield Buffer.concat([Buffer.from(`${this.name} processed `), message, Buffer.from(" 1")]);
    yield Buffer.concat([Buffer.from(`${this.name} processed `), message, Buffer.from(" 2")]);
  }
}

await serve(new MyWorker({ name: process.argv[2] ?? "worker", dbAddress: addresses().db }));
