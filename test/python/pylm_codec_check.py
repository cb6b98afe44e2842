"""Encodes messages with Python's protobuf, for palm's codec tests (test/codec.test.ts).

Reads JSON lines on stdin, one message each:

    {"pipeline": str, "client": str, "stage": int, "function": str, "cache": str,
     "payload": hex, "error": str (optional), "id": str (optional), "trace": str (optional),
     "palm": hex}

and writes one JSON line per message:

    {"python": hex,      # Python's serialisation of the same message (palm's 9-field schema)
     "pylm": hex,        # `palm` parsed with pylm's 6-field schema and serialised again
     "fields": {...}}    # what pylm's schema read from `palm` (payload as hex)

palm's schema is pylm's plus `optional string error = 7; optional string id = 8;
optional string trace = 9;` (proto3 explicit presence: written when set, even when empty).
pylm's own schema does not know 7, 8 and 9 and keeps them as unknown fields, so "pylm" must
equal "palm" byte for byte.
"""

import json
import sys

sys.dont_write_bytecode = True  # no __pycache__ inside the repo
import pylm_wire as wire  # noqa: E402
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory  # noqa: E402


def _palm_message_class():
    fdp = descriptor_pb2.FileDescriptorProto(name="palm_messages.proto", syntax="proto3")
    msg = fdp.message_type.add(name="PalmMessage")
    field = descriptor_pb2.FieldDescriptorProto
    for number, name, ftype in (
        (1, "pipeline", field.TYPE_STRING),
        (2, "client", field.TYPE_STRING),
        (3, "stage", field.TYPE_INT64),
        (4, "function", field.TYPE_STRING),
        (5, "cache", field.TYPE_STRING),
        (6, "payload", field.TYPE_BYTES),
    ):
        msg.field.add(name=name, number=number, type=ftype, label=field.LABEL_OPTIONAL)
    # proto3 `optional`: each field sits alone in a synthetic oneof named "_<field>".
    for index, (number, name) in enumerate(((7, "error"), (8, "id"), (9, "trace"))):
        msg.oneof_decl.add(name="_" + name)
        msg.field.add(name=name, number=number, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL,
                      oneof_index=index, proto3_optional=True)
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(fdp.SerializeToString())
    descriptor = pool.FindMessageTypeByName("PalmMessage")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


PalmMessage8 = _palm_message_class()


def check(line):
    m = json.loads(line)
    fields = dict(
        pipeline=m["pipeline"], client=m["client"], stage=m["stage"], function=m["function"],
        cache=m["cache"], payload=bytes.fromhex(m["payload"]),
    )
    if "error" in m:
        fields["error"] = m["error"]
    if "id" in m:
        fields["id"] = m["id"]
    if "trace" in m:
        fields["trace"] = m["trace"]
    python = PalmMessage8(**fields).SerializeToString()
    pylm = wire.parse(bytes.fromhex(m["palm"]))
    return {
        "python": python.hex(),
        "pylm": pylm.SerializeToString().hex(),
        "fields": dict(
            pipeline=pylm.pipeline, client=pylm.client, stage=pylm.stage, function=pylm.function,
            cache=pylm.cache, payload=pylm.payload.hex(),
        ),
    }


def main():
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(check(line)), flush=False)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
