import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Packr, unpack } from "msgpackr";
import type { Codec } from "../src/codec/codec.js";
import { getCodec, msgpackCodec, protobufCodec } from "../src/codec/index.js";
import { MSGPACK_FRAME_TAG } from "../src/codec/msgpack.js";
import { isPalmError } from "../src/errors.js";
import { createMessage, type PalmMessage } from "../src/message.js";
import { runPython } from "./python/peers.js";
import { protobufjsReferenceCodec } from "./support/protobufjsReference.js";

// ------------------------------------------------------------------------------------------- helpers

/** Any text, astral planes included (well-formed UTF-16: what survives UTF-8). */
const text = fc.string({ unit: "binary", maxLength: 40 });
/** Mostly the kind of strings palm sends (ids, `server.fn`), sometimes anything. */
const field = fc.oneof(fc.constant(""), fc.uuid(), fc.string({ maxLength: 20 }), text);
const stage = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 10 }),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.constantFrom(2 ** 31, 2 ** 32, -1, -(2 ** 31), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
);
const arbitraryMessage: fc.Arbitrary<PalmMessage> = fc.record({
  pipeline: field,
  client: field,
  stage,
  function: field,
  cache: field,
  payload: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 100, maxLength: 400 })),
  error: fc.option(text, { nil: undefined }),
  id: fc.option(field, { nil: undefined }),
  // `-` (a call tracing did not sample) has a path of its own in the msgpack codec; and `-` followed by
  // more is any other string.
  trace: fc.option(fc.oneof(fc.constantFrom("-", "-a", "--"), field), { nil: undefined }),
});

/** A message with its payload as a plain hex string, so Buffers and Uint8Arrays compare equal. */
function plain(m: PalmMessage) {
  return { ...m, payload: Buffer.from(m.payload).toString("hex") };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** Bytes from a spaced hex string: "0a 01 70" → <0a 01 70>. */
function bytes(spaced: string): Buffer {
  return Buffer.from(spaced.replace(/\s+/g, ""), "hex");
}

/** Asserts that decoding `frame` either gives well-formed messages or throws PALM_ERR_CODEC_DECODE. */
function decodesOrRefuses(codec: Codec, frame: Uint8Array): "decoded" | "refused" {
  let messages: PalmMessage[];
  try {
    messages = codec.decode(frame);
  } catch (error) {
    assert.ok(isPalmError(error, "PALM_ERR_CODEC_DECODE"), `threw something else: ${String(error)}`);
    return "refused";
  }
  assert.ok(messages.length >= 1);
  for (const m of messages) {
    for (const key of ["pipeline", "client", "function", "cache"] as const)
      assert.equal(typeof m[key], "string");
    assert.ok(Number.isFinite(m.stage));
    assert.ok(m.payload instanceof Uint8Array);
    assert.ok(m.error === undefined || typeof m.error === "string");
    assert.ok(m.id === undefined || typeof m.id === "string");
  }
  return "decoded";
}

function assertRefused(codec: Codec, frame: Uint8Array): void {
  assert.throws(
    () => codec.decode(frame),
    (error: unknown) => isPalmError(error, "PALM_ERR_CODEC_DECODE"),
  );
}

// ------------------------------------------------------------------------------------------- round trips

describe("codecs: round trips", () => {
  it("msgpack carries any batch of messages through one frame unchanged", () => {
    fc.assert(
      fc.property(fc.array(arbitraryMessage, { minLength: 1, maxLength: 20 }), (messages) => {
        const frames = msgpackCodec.encode(messages);
        assert.equal(frames.length, 1);
        assert.deepEqual(msgpackCodec.decode(frames[0]!).map(plain), messages.map(plain));
      }),
      { numRuns: 300 },
    );
  });

  it("msgpack frames are standard msgpack: msgpackr reads palm's frames, and palm reads msgpackr's", () => {
    const packr = new Packr({ useRecords: false, moreTypes: false });
    const tuple = (m: PalmMessage) => [
      m.pipeline,
      m.client,
      m.stage,
      m.function,
      m.cache,
      hex(m.payload),
      m.error ?? null,
      m.id ?? null,
      ...(m.trace === undefined ? [] : [m.trace]),
    ];
    fc.assert(
      fc.property(fc.array(arbitraryMessage, { minLength: 1, maxLength: 10 }), (messages) => {
        const [frame] = msgpackCodec.encode(messages);
        const read = unpack(frame!) as unknown[];
        assert.equal(read[0], MSGPACK_FRAME_TAG);
        assert.deepEqual(
          read.slice(1).map((t) => {
            const fields = [...(t as unknown[])];
            fields[5] = hex(fields[5] as Uint8Array);
            return fields;
          }),
          messages.map(tuple),
        );
        const foreign = packr.pack([
          MSGPACK_FRAME_TAG,
          ...messages.map((m) => [
            m.pipeline,
            m.client,
            m.stage,
            m.function,
            m.cache,
            Buffer.from(m.payload),
            m.error ?? null,
            m.id ?? null,
            ...(m.trace === undefined ? [] : [m.trace]),
          ]),
        ]);
        assert.deepEqual(msgpackCodec.decode(foreign).map(plain), messages.map(plain));
      }),
      { numRuns: 300 },
    );
  });

  it("msgpack encodeOne and encode of one message decode alike", () => {
    fc.assert(
      fc.property(arbitraryMessage, (m) => {
        assert.deepEqual(msgpackCodec.decode(msgpackCodec.encodeOne(m)).map(plain), [plain(m)]);
      }),
    );
  });

  it("palm-protobuf carries any message through its own frame unchanged (one frame per message)", () => {
    fc.assert(
      fc.property(fc.array(arbitraryMessage, { minLength: 1, maxLength: 5 }), (messages) => {
        const frames = protobufCodec.encode(messages);
        assert.equal(frames.length, messages.length);
        const decoded = frames.flatMap((frame) => protobufCodec.decode(frame));
        assert.deepEqual(decoded.map(plain), messages.map(plain));
      }),
      { numRuns: 500 },
    );
  });

  it("palm-protobuf decodes a plain Uint8Array (not a Buffer) and a frame inside a larger buffer", () => {
    fc.assert(
      fc.property(arbitraryMessage, fc.nat(8), (m, offset) => {
        const frame = protobufCodec.encodeOne(m);
        const host = new Uint8Array(offset + frame.length + 3);
        host.set(frame, offset);
        const view = host.subarray(offset, offset + frame.length);
        assert.deepEqual(protobufCodec.decode(view).map(plain), [plain(m)]);
      }),
    );
  });

  it("palm-protobuf writes exactly what protobufjs writes, and each decodes the other's frames", () => {
    fc.assert(
      fc.property(arbitraryMessage, (m) => {
        const ours = protobufCodec.encodeOne(m);
        const reference = protobufjsReferenceCodec.encodeOne(m);
        assert.equal(hex(ours), hex(reference));
        assert.deepEqual(protobufjsReferenceCodec.decode(ours).map(plain), [plain(m)]);
        assert.deepEqual(protobufCodec.decode(reference).map(plain), [plain(m)]);
      }),
      { numRuns: 1000 },
    );
  });

  it("palm-protobuf truncates a fractional stage and maps a non-finite one to 0, as protobufjs does", () => {
    for (const [given, sent] of [
      [1.9, 1],
      [-1.5, -1],
      [0.5, 0],
      [Number.NaN, 0],
      [Number.POSITIVE_INFINITY, 0],
    ] as const) {
      const frame = protobufCodec.encodeOne(createMessage({ stage: given }));
      assert.equal(protobufCodec.decode(frame)[0]!.stage, sent, `stage ${given}`);
    }
  });

  it("getCodec names both codecs and refuses others, naming the option", () => {
    assert.equal(getCodec("msgpack"), msgpackCodec);
    assert.equal(getCodec("palm-protobuf"), protobufCodec);
    assert.throws(
      () => getCodec("json"),
      /Expected `codec` to be "msgpack" or "palm-protobuf", got `"json"`/,
    );
  });
});

// ------------------------------------------------------------------------------------------- golden bytes

describe("palm-protobuf: golden bytes from the protobuf wire-format spec", () => {
  // tag = (field number << 3) | wire type; wire type 0 = varint, 2 = length-delimited (length varint first).
  // Fields 1..6 at their proto3 default are not written; fields 7 and 8 are written when present.
  const cases: Array<[string, Partial<PalmMessage>, string]> = [
    ["the empty message is the empty frame (every field at its default)", {}, ""],
    [
      "a typical message: 1 'p', 2 'c', 3 varint 1, 4 's.f', 6 bytes 'hi'; empty cache omitted",
      { pipeline: "p", client: "c", stage: 1, function: "s.f", payload: Buffer.from("hi") },
      "0a 01 70  12 01 63  18 01  22 03 73 2e 66  32 02 68 69",
    ],
    ["cache alone: field 5", { cache: "k1" }, "2a 02 6b 31"],
    ["stage 127: one varint byte", { stage: 127 }, "18 7f"],
    ["stage 300: two varint bytes, low group first (300 = 0b10_0101100)", { stage: 300 }, "18 ac 02"],
    ["stage 2^31: five bytes", { stage: 2 ** 31 }, "18 80 80 80 80 08"],
    ["stage 2^32: five bytes", { stage: 2 ** 32 }, "18 80 80 80 80 10"],
    [
      "stage 2^53 - 1: fifty-three one-bits in eight bytes",
      { stage: 2 ** 53 - 1 },
      "18 ff ff ff ff ff ff ff 0f",
    ],
    ["stage -1: int64 two's complement, always ten bytes", { stage: -1 }, "18 ff ff ff ff ff ff ff ff ff 01"],
    ["stage -2", { stage: -2 }, "18 fe ff ff ff ff ff ff ff ff 01"],
    ["stage -(2^53 - 1) = 0xffe0000000000001", { stage: -(2 ** 53 - 1) }, "18 81 80 80 80 80 80 80 f0 ff 01"],
    [
      "a 200-byte payload: length 200 is the varint c8 01",
      { payload: Buffer.alloc(200, 0x61) },
      `32 c8 01 ${"61".repeat(200)}`,
    ],
    [
      "UTF-8 strings: é is c3 a9, 😀 is f0 9f 98 80",
      { pipeline: "é", client: "😀" },
      "0a 02 c3 a9  12 04 f0 9f 98 80",
    ],
    [
      "palm's extras after pylm's fields: 7 error 'boom', 8 id 'c:1'",
      { function: "s.f", error: "boom", id: "c:1" },
      "22 03 73 2e 66  3a 04 62 6f 6f 6d  42 03 63 3a 31",
    ],
    ["an empty error is present, so it is written (explicit presence)", { error: "" }, "3a 00"],
  ];
  for (const [name, fields, expected] of cases) {
    it(`encodes ${name}`, () => {
      const m = createMessage(fields);
      assert.equal(hex(protobufCodec.encodeOne(m)), hex(bytes(expected)));
      assert.deepEqual(protobufCodec.decode(bytes(expected)).map(plain), [plain(m)]);
    });
  }

  it("decodes fields in any order, explicit defaults, repeated fields (last wins) and non-minimal varints", () => {
    const [m] = protobufCodec.decode(
      bytes(
        "32 01 78" + // payload 'x' first
          " 0a 00" + // pipeline "" written explicitly
          " 18 05 18 02" + // stage twice: the last wins
          " 8a 00 01 41" + // tag 10 (field 1, LEN) as a two-byte varint: pipeline 'A'
          " 18 ff ff ff ff ff ff ff ff ff 7f", // -1 with stray high bits in the tenth byte (ignored)
      ),
    );
    assert.deepEqual(
      plain(m!),
      plain(createMessage({ pipeline: "A", stage: -1, payload: Buffer.from("x") })),
    );
  });
});

// ------------------------------------------------------------------------------------------- Python

describe("palm-protobuf: byte-compatible with Python's protobuf (pylm)", () => {
  it("writes what Python writes for the same message, and pylm's schema reads it and writes it back unchanged", () => {
    const messages = [
      createMessage(),
      createMessage({ stage: -1 }),
      createMessage({ stage: Number.MAX_SAFE_INTEGER, error: "", id: "" }),
      createMessage({
        pipeline: "p",
        client: "c",
        stage: 1,
        function: "a.f b.g",
        cache: "k",
        payload: Buffer.from([0, 1]),
      }),
      ...fc.sample(arbitraryMessage, { numRuns: 400, seed: 20240611 }),
    ];
    const frames = messages.map((m) => protobufCodec.encodeOne(m));
    const input = messages
      .map((m, i) =>
        JSON.stringify({
          ...m,
          payload: hex(m.payload),
          error: m.error,
          id: m.id,
          trace: m.trace,
          palm: hex(frames[i]!),
        }),
      )
      .join("\n");
    const answers = runPython("pylm_codec_check.py", [], `${input}\n`)
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { python: string; pylm: string; fields: Record<string, unknown> });
    assert.equal(answers.length, messages.length);
    messages.forEach((m, i) => {
      const answer = answers[i]!;
      const ours = hex(frames[i]!);
      assert.equal(ours, answer.python, `message ${i}: ${JSON.stringify(plain(m))}`);
      assert.equal(answer.pylm, ours, `message ${i}: pylm's schema changed palm's frame`);
      const { error: _e, id: _i, trace: _t, ...pylmFields } = plain(m);
      assert.deepEqual(answer.fields, pylmFields, `message ${i}: pylm read other fields`);
    });
  });
});

// ------------------------------------------------------------------------------------------- bad frames

describe("codecs: garbage, truncated and wrong-codec frames", () => {
  const codecs = [msgpackCodec, protobufCodec];

  for (const codec of codecs) {
    it(`${codec.name}: any bytes either decode to well-formed messages or throw PALM_ERR_CODEC_DECODE`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (frame) => {
          decodesOrRefuses(codec, frame);
        }),
        { numRuns: 3000 },
      );
    });

    it(`${codec.name}: a valid frame with bytes flipped, cut or appended never throws anything else`, () => {
      fc.assert(
        fc.property(
          fc.array(arbitraryMessage, { minLength: 1, maxLength: 3 }),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
          fc.nat(),
          fc.uint8Array({ maxLength: 8 }),
          (messages, flips, cut, tail) => {
            const frame = Buffer.from(codec.encode(messages)[0]!);
            for (const [at, value] of flips) if (frame.length > 0) frame[at % frame.length] = value;
            decodesOrRefuses(codec, frame);
            decodesOrRefuses(codec, frame.subarray(0, frame.length === 0 ? 0 : cut % frame.length));
            decodesOrRefuses(codec, Buffer.concat([frame, tail]));
          },
        ),
        { numRuns: 1000 },
      );
    });

    it(`${codec.name}: something that is not bytes at all is refused with PALM_ERR_CODEC_DECODE`, () => {
      for (const value of [undefined, null, "0a0170", 42, {}])
        assertRefused(codec, value as unknown as Uint8Array);
    });
  }

  it("msgpack: every strict prefix of a frame is refused", () => {
    fc.assert(
      fc.property(fc.array(arbitraryMessage, { minLength: 1, maxLength: 3 }), fc.nat(), (messages, cut) => {
        const frame = msgpackCodec.encode(messages)[0]!;
        assertRefused(msgpackCodec, frame.subarray(0, cut % frame.length));
      }),
    );
  });

  it("palm-protobuf: a frame cut inside its last field is refused (lengths and varints are checked)", () => {
    fc.assert(
      fc.property(arbitraryMessage, fc.integer({ min: 1, max: 50 }), (m, drop) => {
        // The payload (field 6) is the last field when there are no extras: cutting into it must fail.
        const message = {
          ...m,
          payload: Buffer.concat([Buffer.from("x"), m.payload]),
          error: undefined,
          id: undefined,
          trace: undefined,
        };
        const frame = protobufCodec.encodeOne(message);
        const cut = Math.min(drop, message.payload.length + 1);
        assertRefused(protobufCodec, frame.subarray(0, frame.length - cut));
      }),
    );
    assertRefused(protobufCodec, bytes("18 ff")); // varint without its last byte
    assertRefused(protobufCodec, bytes("18 ff ff ff ff ff ff ff ff ff ff 01")); // eleven bytes
    assertRefused(protobufCodec, bytes("0a")); // tag without length
    assertRefused(protobufCodec, bytes("0a ff ff ff ff ff 01")); // length varint too long
  });

  it("palm-protobuf refuses what Python's protobuf refuses, and fields pylm's schema does not have", () => {
    assertRefused(protobufCodec, bytes("0a 02 ff fe")); // invalid UTF-8 in a string (Python: DecodeError)
    assertRefused(protobufCodec, bytes("0b")); // group start: wire type 3
    assertRefused(protobufCodec, bytes("0f")); // wire type 7
    assertRefused(protobufCodec, bytes("00 00")); // field 0
    assertRefused(protobufCodec, bytes("48 05")); // field 9 (Python would keep it as unknown)
    assertRefused(protobufCodec, bytes("08 05")); // field 1 as a varint (Python: unknown field)
    // U+FFFD itself is valid UTF-8 and decodes.
    assert.equal(protobufCodec.decode(bytes("0a 03 ef bf bd"))[0]!.pipeline, "\ufffd");
  });

  it("a msgpack frame given to palm-protobuf is always refused", () => {
    // A msgpack frame starts with an array header then the fixstr "palm/1" (a6 70 ...): read as protobuf, its
    // first tag is a multi-byte varint naming a field number far above 8, which the decoder refuses.
    fc.assert(
      fc.property(fc.array(arbitraryMessage, { minLength: 1, maxLength: 40 }), (messages) => {
        assertRefused(protobufCodec, msgpackCodec.encode(messages)[0]!);
      }),
      { numRuns: 300 },
    );
  });

  it("a palm-protobuf frame given to msgpack is always refused", () => {
    // Every protobuf frame starts with a tag byte below 0x80 (a msgpack positive fixint) or is empty: neither
    // is an array starting with the palm/1 tag.
    fc.assert(
      fc.property(arbitraryMessage, (m) => {
        assertRefused(msgpackCodec, protobufCodec.encodeOne(m));
      }),
      { numRuns: 500 },
    );
    assert.equal(MSGPACK_FRAME_TAG, "palm/1");
  });

  it("documents the one case palm-protobuf cannot tell: bytes that form a valid PalmMessage decode as one", () => {
    // protobuf has no magic number: the empty frame is the all-defaults message, and garbage that happens to be
    // well-formed (here: pipeline "ok") decodes. Servers answer such a message with an error (no such function).
    assert.deepEqual(plain(protobufCodec.decode(Buffer.alloc(0))[0]!), plain(createMessage()));
    assert.equal(protobufCodec.decode(Buffer.from("\n\x02ok", "latin1"))[0]!.pipeline, "ok");
  });
});
