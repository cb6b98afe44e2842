import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pack, unpack } from "msgpackr";
import { decodeWorkHeader, encodeWorkHeader, type WorkHeader } from "../src/dispatch/protocol.js";

const headers: WorkHeader[] = [
  { seq: 0, deadlines: [] },
  { seq: 1, deadlines: [0] },
  { seq: 127, deadlines: [128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 40] },
  { seq: 2 ** 33, deadlines: Array.from({ length: 20 }, (_, k) => k * 1000) },
];

describe("work header", () => {
  it("is written as standard msgpack that msgpackr reads back", () => {
    for (const header of headers) assert.deepEqual(unpack(encodeWorkHeader(header)), header);
  });

  it("reads back what it wrote and what msgpackr packs", () => {
    for (const header of headers) {
      assert.deepEqual(decodeWorkHeader(encodeWorkHeader(header)), header);
      assert.deepEqual(decodeWorkHeader(pack(header)), header);
      // Keys in the other order, as another encoder may write them.
      assert.deepEqual(decodeWorkHeader(pack({ deadlines: header.deadlines, seq: header.seq })), header);
    }
  });

  it("writes a header that is not made of counts the general way (and reads it as malformed)", () => {
    const odd = { seq: -1, deadlines: [0.5] };
    assert.deepEqual(encodeWorkHeader(odd), pack(odd));
    assert.equal(decodeWorkHeader(encodeWorkHeader(odd)), undefined);
  });

  it("takes nothing malformed, whole or cut short", () => {
    const good = encodeWorkHeader({ seq: 70_000, deadlines: [300, 2 ** 40] });
    for (let end = 0; end < good.length; end++)
      assert.equal(decodeWorkHeader(good.subarray(0, end)), undefined, `cut at ${end}`);
    const bad = [
      pack({ seq: 1 }),
      pack({ seq: "1", deadlines: [] }),
      pack({ seq: 1, deadlines: [-3] }),
      pack({ seq: 1, deadlines: "no" }),
      pack({ seq: 1.5, deadlines: [] }),
      pack([1, []]),
      Buffer.concat([good, Buffer.from([0])]),
      undefined,
    ];
    for (const frame of bad) assert.equal(decodeWorkHeader(frame), undefined);
    // Fields it does not know are ignored, as before.
    assert.deepEqual(decodeWorkHeader(pack({ seq: 1, deadlines: [1], extra: 2 })), {
      seq: 1,
      deadlines: [1],
    });
  });
});
