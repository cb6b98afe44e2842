import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { addressKey } from "../bench/hop-timer.js";
import { formatHops, LEGS, summarizeHops } from "../bench/hops.js";

describe("palm bench --hops", () => {
  it("follows each round trip from socket to socket across the processes' notes", () => {
    const dir = mkdtempSync(join(tmpdir(), "palm-hops-"));
    const write = (name: string, events: unknown[]) => writeFileSync(join(dir, name), JSON.stringify(events));
    // palm's path: the client's PUSH to the master's PULL (port 1), the dispatch ROUTER to the workers'
    // DEALERs (port 2) and back, the Streams ROUTER to the client's DEALER (port 3). Two sequential round
    // trips, 1000 µs apart; the second worker answers the second one. Not mistaken for the round trip's
    // hops: the client's stream hello, a heartbeat-like send of the first worker with no receive before it,
    // the master's `welcome` on the dispatch ROUTER and a presence on its PUB (port 4) before each result.
    write("palm-client-1.json", [
      [-50, "send", "Dealer", "tcp:3"],
      [-40, "recv", "Subscriber", "tcp:4"],
      [-30, "recv", "Dealer", "tcp:3"],
      [0, "send", "Push", "tcp:1"],
      [550, "recv", "Dealer", "tcp:3"],
      [1000, "send", "Push", "tcp:1"],
      [1600, "recv", "Dealer", "tcp:3"],
    ]);
    write("palm-master-2.json", [
      [-45, "recv", "Router", "tcp:3"],
      [-42, "send", "XPublisher", "tcp:4"],
      [-35, "send", "Router", "tcp:3"],
      [100, "recv", "Pull", "tcp:1"],
      [120, "send", "Router", "tcp:2"],
      [400, "recv", "Router", "tcp:2"],
      [405, "send", "Router", "tcp:2"],
      [410, "send", "XPublisher", "tcp:4"],
      [420, "send", "Router", "tcp:3"],
      [1100, "recv", "Pull", "tcp:1"],
      [1130, "send", "Router", "tcp:2"],
      [1450, "recv", "Router", "tcp:2"],
      [1480, "send", "Router", "tcp:3"],
    ]);
    write("palm-worker-3.json", [
      [250, "recv", "Dealer", "tcp:2"],
      [280, "send", "Dealer", "tcp:2"],
      [900, "send", "Dealer", "tcp:2"],
    ]);
    write("palm-worker-4.json", [
      [1250, "recv", "Dealer", "tcp:2"],
      [1300, "send", "Dealer", "tcp:2"],
    ]);
    const summary = summarizeHops(dir, 10)!;
    rmSync(dir, { recursive: true, force: true });
    assert.equal(summary.roundTrips, 2);
    // Nearest-rank p50 of two values is the smaller, p90 the larger.
    assert.deepEqual(
      LEGS.map((leg) => [summary.legs[leg]!.p50, summary.legs[leg]!.p90]),
      [
        [100, 100],
        [20, 30],
        [120, 130],
        [30, 50],
        [120, 150],
        [20, 30],
        [120, 130],
      ],
    );
    assert.deepEqual(summary.roundTrip, { p50: 550, p90: 600 });
    const text = formatHops({ palm: summary });
    assert.match(text, /worker: in → out\s+30 \(50\)/);
    assert.match(text, /round trip\s+550 \(600\)/);
  });

  it("names both ends of a TCP connection alike, whatever host each side gave", () => {
    assert.equal(addressKey("tcp://*:5555"), "tcp:5555");
    assert.equal(addressKey("tcp://127.0.0.1:5555"), "tcp:5555");
    assert.equal(addressKey("tcp://[::1]:5555"), "tcp:5555");
    assert.equal(addressKey("ipc:///tmp/palm.sock"), "ipc:///tmp/palm.sock");
  });
});
