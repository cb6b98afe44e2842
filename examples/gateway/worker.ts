// A worker for the gateway example: `echo` answers its payload, `foo` tags it with the worker's name.
// It learns the master's worker addresses from its cache. Usage: worker.ts <name>
import { Worker } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

class MyWorker extends Worker {
  echo(payload: Uint8Array): Uint8Array {
    return payload;
  }

  foo(payload: Uint8Array): Uint8Array {
    return Buffer.concat([Buffer.from(`${this.name} processed `), payload]);
  }
}

await serve(new MyWorker({ name: process.argv[2] ?? "worker", dbAddress: addresses().db }));
