// pylm's gateway example: an HTTP front door for a master. `GET|POST /<function>` (body = payload) is
// pushed to the workers and the worker's result is the HTTP response. Run it, run examples/gateway/worker.ts
// (as many as you like), then: curl -s -d hello http://127.0.0.1:8888/echo
import {
  CacheService,
  GatewayDealer,
  GatewayRouter,
  HttpGateway,
  ServerTemplate,
  WorkerPullService,
  WorkerPushService,
} from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

const { workerPull, workerPush, db } = addresses();
/** Where HTTP clients call (`PALM_HTTP`). */
const http = process.env.PALM_HTTP || "http://127.0.0.1:8888";

const server = new ServerTemplate({ name: "server" });
// The HttpGateway hands requests to the GatewayRouter and gets results back from the GatewayDealer through
// their in-process address, where pylm's parts used an inproc:// socket.
server.registerInbound(GatewayRouter, "GatewayRouter", "inproc://gateway_router", { route: "WorkerPush" });
server.registerOutbound(GatewayDealer, "GatewayDealer", "inproc://gateway_router");
server.registerBypass(HttpGateway, "HttpGateway", http, { listenAddress: "inproc://gateway_router" });
server.registerInbound(WorkerPullService, "WorkerPull", workerPull, { route: "GatewayDealer" });
server.registerOutbound(WorkerPushService, "WorkerPush", workerPush);
server.registerBypass(CacheService, "Cache", db);
server.presetCache({
  name: "server",
  db_address: db,
  worker_pull_address: workerPull,
  worker_push_address: workerPush,
});

await serve(server);
