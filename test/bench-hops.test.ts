import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { formatHops, LEGS, summarizeHops } from "../bench/hops.js";

describe("palm bench --hops", () => {
  it("follows each round trip from socket to socket across the processes' notes", () => {
    const dir = mkdtempSync(join(tmpdir(), "palm-hops-"));
    const write = (name: string, events: unknown[]) => writeFileSync(join(dir, name), JSON.stringify(events));
    // Two sequential round trips, 1000 µs apart; the second worker answers the second one, and a
    // heartbeat from the first worker (a send with no receive before it) is not mistaken for a result.
    write("palm-client-1.json", [
      [0, "send", "Push"],
      [550, "recv", "Subscriber"],
      [1000, "send", "Push"],
      [1600, "recv", "Subscriber"],
    ]);
    write("palm-master-2.json", [
      [100, "recv", "Pull"],
      [120, "send", "Push"],
      [400, "recv", "Pull"],
      [420, "send", "XPublisher"],
      [1100, "recv", "Pull"],
      [1130, "send", "Push"],
      [1450, "recv", "Pull"],
      [1480, "send", "XPublisher"],
    ]);
    write("palm-worker-3.json", [
      [250, "recv", "Pull"],
      [280, "send", "Push"],
      [900, "send", "Push"],
    ]);
    write("palm-worker-4.json", [
      [1250, "recv", "Pull"],
      [1300, "send", "Push"],
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
});
