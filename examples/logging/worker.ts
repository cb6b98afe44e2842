// A worker that logs at `info` every ten messages it processes (the default level, so they are printed;
// its `debug` lines are not). Usage: worker.ts <name>
import { Worker } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

class MyWorker extends Worker {
  ncalls = 0;

  async foo(message: Uint8Array): Promise<Uint8Array> {
    // Counted once the awaited value is there: a worker runs several async calls at once (its prefetch).
    const data = await this.get("cached");
    this.ncalls++;
    if (this.ncalls % 10 === 0) this.template.logger.info(`Processed ${this.ncalls} messages`);
    this.template.logger.debug("not printed at the info level");
    return Buffer.concat([Buffer.from(this.name), data, message]);
  }
}

await serve(new MyWorker({ name: process.argv[2] ?? "worker", dbAddress: addresses().db, logLevel: "info" }));
