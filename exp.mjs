import * as zmq from "zeromq";

const r = new zmq.Router({ mandatory: true, sendTimeout: 0, sendHighWaterMark: 5 });
await r.bind("tcp://127.0.0.1:*");
const d = new zmq.Dealer({ routingId: "abc", receiveHighWaterMark: 5 });
d.connect(r.lastEndpoint);
await d.send("hi");
const [id] = await r.receive();
console.log("id", id.toString());
let n = 0;
try {
  for (;;) {
    await r.send([id, Buffer.alloc(1000)]);
    n++;
    if (n > 100000) break;
  }
} catch (e) {
  console.log("stopped after", n, e.code, e.message);
}
try {
  await r.send(["nobody", "x"]);
} catch (e) {
  console.log("unknown:", e.code);
}
// read some, then send again
for (let i = 0; i < 20; i++) await d.receive();
try {
  await r.send([id, "again"]);
  console.log("sent again ok");
} catch (e) {
  console.log("again", e.code);
}
r.close();
d.close();
