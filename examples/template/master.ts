// The master of the seed, built part by part with ServerTemplate (pylm's examples/template): what
// `Master` does, minus its in-flight ledger. Run it with the parallel example's workers and client.
import {
  CacheService,
  PubService,
  PullService,
  ServerTemplate,
  WorkerPullService,
  WorkerPushService,
} from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

const { pull, pub, workerPull, workerPush, db } = addresses();

const server = new ServerTemplate({ name: "server" });
server.registerInbound(PullService, "Pull", pull, { route: "WorkerPush" });
server.registerInbound(WorkerPullService, "WorkerPull", workerPull, { route: "Pub" });
server.registerOutbound(WorkerPushService, "WorkerPush", workerPush);
server.registerOutbound(PubService, "Pub", pub);
server.registerBypass(CacheService, "Cache", db);
server.presetCache({
  name: "server",
  db_address: db,
  pull_address: pull,
  pub_address: pub,
  worker_pull_address: workerPull,
  worker_push_address: workerPush,
});

await serve(server);
