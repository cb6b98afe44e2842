// A worker of the Hub (it finds the hub's worker addresses in the hub's cache). Usage: worker.ts <name>
import { Worker } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

class MyWorker extends Worker {
  foo(message: Uint8Array): Uint8Array {
    return Buffer.concat([Buffer.from(`${this.name} processed `), message]);
  }
}

await serve(new MyWorker({ name: process.argv[2] ?? "worker", dbAddress: addresses(2).db }));
