// A worker that reads the value the client stored under `cached` in the master's cache. Usage: worker.ts <name>
import { Worker } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

class MyWorker extends Worker {
  async foo(message: Uint8Array): Promise<Uint8Array> {
    const data = await this.get("cached");
    return Buffer.concat([Buffer.from(this.name), data, message]);
  }
}

await serve(new MyWorker({ name: process.argv[2] ?? "worker", dbAddress: addresses().db }));
