import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SettledIds } from "../machines/settledIds.js";

describe("SettledIds", () => {
  it("remembers a master's counters and any other id, and forgets the oldest past its limit", () => {
    const settled = new SettledIds(4);
    settled.add("m:k3x9:1");
    settled.add("client-own-id");
    settled.add("m:k3x9:2");
    settled.add("m:k3x9:2");
    settled.add("m:k3x9:3/0");
    assert.equal(settled.size, 4);
    for (const id of ["m:k3x9:1", "client-own-id", "m:k3x9:2", "m:k3x9:3/0"]) assert.ok(settled.has(id), id);
    assert.ok(!settled.has("m:k3x9:3"));
    settled.add("m:k3x9:4");
    settled.add("other:z:1");
    assert.equal(settled.size, 4);
    assert.ok(!settled.has("m:k3x9:1"), "the oldest (a counter) is forgotten");
    assert.ok(!settled.has("client-own-id"), "then the next oldest (a string)");
    for (const id of ["m:k3x9:2", "m:k3x9:3/0", "m:k3x9:4", "other:z:1"]) assert.ok(settled.has(id), id);
  });

  it("keeps ids that only look alike apart: other prefixes, leading zeros, long counters, empty counters", () => {
    const settled = new SettledIds(100);
    settled.add("m:a:7");
    for (const id of ["m:b:7", "m:a:07", "m:a:", "m:a:7 ", "m:a:1234567890", "x:m:a:7", "m:a:-7"])
      assert.ok(!settled.has(id), id);
    for (const id of ["m:a:07", "m:a:", "m:a:1234567890", "m:b:7"]) settled.add(id);
    for (const id of ["m:a:7", "m:a:07", "m:a:", "m:a:1234567890", "m:b:7"]) assert.ok(settled.has(id), id);
    assert.ok(!settled.has("m:a:123456789"));
    assert.equal(settled.size, 5);
  });

  it("takes its prefix from the first id that ends in a counter, whatever came before", () => {
    const settled = new SettledIds(10);
    settled.add("plain");
    settled.add("a:b/1");
    settled.add("srv:t:12");
    for (const id of ["plain", "a:b/1", "srv:t:12"]) assert.ok(settled.has(id), id);
    assert.ok(!settled.has("srv:t:13"));
  });
});
