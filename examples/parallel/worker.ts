// A worker: runs `foo` for the master and tags each result with its own name. Usage: worker.ts <name>
import { Worker } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

class MyWorker extends Worker {
  foo(message: Uint8Array): Uint8Array {
    return Buffer.concat([Buffer.from(`${this.name} processed `), message]);
  }
}

// The worker learns the master's worker addresses from its cache.
await serve(new MyWorker({ name: process.argv[2] ?? "worker", dbAddress: addresses().db }));
