import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SettledIds } from "../machines/settledIds.js";

describe("SettledIds", () => {
  it("remembers ids with counters and any other id, and forgets the oldest past its limit", () => {
    const settled = new SettledIds(4);
    settled.add("c1f0:3#1");
    settled.add("client-own-id");
    settled.add("m:k3x9:2");
    settled.add("m:k3x9:2");
    settled.add("m:k3x9:3/0");
    assert.equal(settled.size, 4);
    for (const id of ["c1f0:3#1", "client-own-id", "m:k3x9:2", "m:k3x9:3/0"]) assert.ok(settled.has(id), id);
    assert.ok(!settled.has("m:k3x9:3"));
    settled.add("m:k3x9:4");
    settled.add("c1f0:3#2");
    assert.equal(settled.size, 4);
    assert.ok(!settled.has("c1f0:3#1"), "the oldest (a counter) is forgotten");
    assert.ok(!settled.has("client-own-id"), "then the next oldest (a string)");
    for (const id of ["m:k3x9:2", "m:k3x9:3/0", "m:k3x9:4", "c1f0:3#2"]) assert.ok(settled.has(id), id);
  });

  it("keeps ids that only look alike apart: other prefixes, leading zeros, long counters, no counter", () => {
    const settled = new SettledIds(100);
    settled.add("m:a:7");
    const alike = ["m:b:7", "m:a:07", "m:a:", "m:a:7 ", "m:a:1234567890", "x:m:a:7", "m:a:77", "m:a7", "7"];
    for (const id of alike) assert.ok(!settled.has(id), id);
    for (const id of alike) settled.add(id);
    for (const id of ["m:a:7", ...alike]) assert.ok(settled.has(id), id);
    assert.ok(!settled.has("m:a:123456789"));
    assert.equal(settled.size, alike.length + 1);
  });

  it("forgets a whole window of one job's ids as the next job's come in", () => {
    const settled = new SettledIds(1000);
    for (let job = 1; job <= 3; job++) for (let k = 0; k < 1000; k++) settled.add(`client:${job}#${k}`);
    assert.equal(settled.size, 1000);
    assert.ok(!settled.has("client:2#999"));
    assert.ok(settled.has("client:3#0") && settled.has("client:3#999"));
  });
});
