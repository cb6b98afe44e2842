// pylm's http example: a master whose work is done by an HTTP worker. Clients push to its PULL; each
// message is POSTed to the worker (HttpConnection, at most 4 at once) and the answer is published back.
// Run it with examples/http/worker.ts, then examples/http/client.ts.
import { CacheService, HttpConnection, PubService, PullService, ServerTemplate } from "palm-actors";
import { addresses } from "../addresses.js";
import { serve } from "../serve.js";

const { pull, pub, db } = addresses();
/** The HTTP worker's URL (`PALM_HTTP`). */
const http = process.env.PALM_HTTP || "http://127.0.0.1:8888";

const server = new ServerTemplate({ name: "server" });
server.registerInbound(PullService, "Pull", pull, { route: "HttpConnection" });
// The worker's answer is the HttpConnection's feedback; its `route` sends it on to the publisher.
server.registerOutbound(HttpConnection, "HttpConnection", http, { route: "Pub", maxWorkers: 4 });
server.registerOutbound(PubService, "Pub", pub);
server.registerBypass(CacheService, "Cache", db);
server.presetCache({ name: "server", db_address: db, pull_address: pull, pub_address: pub });

await serve(server);
