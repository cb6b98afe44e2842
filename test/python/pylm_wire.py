"""Shared helpers that speak pylm's wire protocol (reference for palm interop tests).

Everything on the wire between pylm clients, servers, masters and workers is one
protobuf message, pylm's ``PalmMessage`` (proto3, no package)::

    message PalmMessage {
      string pipeline = 1;  // id of the client's stream (pylm: one per Client)
      string client   = 2;  // id of the client; results come back on topic = client
      int64  stage    = 3;  // index into a space-separated `function` list
      string function = 4;  // "server.fn" or "a.f b.g" (one entry per stage)
      string cache    = 5;  // cache key for set; a pylm master stamps a uuid here
      bytes  payload  = 6;  // user data, never interpreted by the framework
    }

The class is built at runtime from a FileDescriptorProto, so neither protoc nor a
generated ``*_pb2.py`` is needed.  Fields this schema does not know (palm adds
7 = error string and 8 = id string) are kept by python protobuf as unknown fields and
written back on SerializeToString(); ``python3 pylm_wire.py --selftest`` checks that.

Run with Debian's /usr/bin/python3 and the packages python3-zmq, python3-protobuf.
"""

import argparse
import signal
import sys
import uuid

import zmq
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory


# --------------------------------------------------------------------------- message


def _build_palm_message_class():
    fdp = descriptor_pb2.FileDescriptorProto(name="pylm_messages.proto", syntax="proto3")
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

    pool = descriptor_pool.DescriptorPool()  # private pool: no clash with other protos
    pool.AddSerializedFile(fdp.SerializeToString())
    descriptor = pool.FindMessageTypeByName("PalmMessage")
    if hasattr(message_factory, "GetMessageClass"):  # protobuf >= 4.22
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)  # older


PalmMessage = _build_palm_message_class()


def new_id():
    """pylm's ids (client, pipeline, generated cache keys): str(uuid4()), dashed form."""
    return str(uuid.uuid4())


def parse(data):
    message = PalmMessage()
    message.ParseFromString(data)
    return message


def stage_function(message):
    """The ``server.fn`` entry this stage must run (pylm: split on whitespace by stage)."""
    if " " in message.function:
        return message.function.split()[message.stage]
    return message.function


# --------------------------------------------------------------------------- cache


class Timeout(Exception):
    pass


def _cache_call(req, server, verb, key="", payload=b"", client=""):
    """One REQ/REP round trip to a pylm cache service.

    The request is a PalmMessage whose `function` is "<server>.<verb>" (only the part
    after the dot matters; pylm clients use their server name, workers use "_").
    The answer is a single raw-bytes frame, not a PalmMessage.
    """
    message = PalmMessage(
        pipeline=new_id(), client=client, stage=0, function=server + "." + verb,
        cache=key, payload=payload,
    )
    req.send(message.SerializeToString())
    if not req.poll(req.getsockopt(zmq.RCVTIMEO)):
        raise Timeout("cache service did not answer %s" % verb)
    return req.recv()


def cache_get(req, key, server="_", client=""):
    """get: the key travels in `payload`; answer = value bytes (b'' when absent)."""
    return _cache_call(req, server, "get", payload=key.encode("utf-8"), client=client)


def cache_set(req, value, key="", server="_", client=""):
    """set: value in `payload`, key in `cache` (empty: server makes one); answer = key."""
    return _cache_call(req, server, "set", key=key, payload=value, client=client).decode("utf-8")


def cache_delete(req, key, server="_", client=""):
    """delete: the key travels in `payload`; answer = the key."""
    return _cache_call(req, server, "delete", payload=key.encode("utf-8"), client=client).decode("utf-8")


def req_socket(ctx, address, timeout_s):
    """REQ socket for cache calls; RCVTIMEO (ms) doubles as the poll timeout above."""
    sock = ctx.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, int(timeout_s * 1000))
    sock.connect(address)
    return sock


# --------------------------------------------------------------------------- CLI helpers


def arg_parser(description):
    return argparse.ArgumentParser(description=description)


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def ready():
    """Tell the parent process (a Node test) that we are up."""
    print("READY", flush=True)


class Stopper:
    """SIGTERM/SIGINT set a flag; loops poll with a short timeout and check it.

    Before the main loop starts (in_loop False) a signal raises SystemExit(0) at once,
    so a process still waiting for a cache answer also stops promptly.
    """

    def __init__(self):
        self.stopped = False
        self.in_loop = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)

    def _stop(self, signum, frame):
        self.stopped = True
        if not self.in_loop:
            raise SystemExit(0)


# --------------------------------------------------------------------------- self-test


def _selftest():
    # Known fields survive a round trip; int64 stage and bytes payload behave.
    m = PalmMessage(pipeline="p", client="c", stage=1, function="a.f b.g", cache="k", payload=b"\x00x")
    m2 = parse(m.SerializeToString())
    assert (m2.pipeline, m2.client, m2.stage, m2.function, m2.cache, m2.payload) == (
        "p", "c", 1, "a.f b.g", "k", b"\x00x")
    assert stage_function(m2) == "b.g"

    # palm's extra fields 7 (error) and 8 (id): length-delimited strings appended by hand.
    def ld(number, data):
        return bytes([(number << 3) | 2, len(data)]) + data

    wire = m.SerializeToString() + ld(7, b"boom") + ld(8, b"id-1")
    worker_view = parse(wire)
    worker_view.payload = b"changed"  # what a worker does
    out = worker_view.SerializeToString()
    assert ld(7, b"boom") in out and ld(8, b"id-1") in out, "unknown fields dropped"
    assert parse(out).payload == b"changed"
    print("selftest ok: protobuf", __import__("google.protobuf").protobuf.__version__,
          "zmq", zmq.__version__)


if __name__ == "__main__":
    if sys.argv[1:] == ["--selftest"]:
        _selftest()
    elif len(sys.argv) == 3 and sys.argv[1] == "--decode":
        # Debug aid: decode a hex-encoded frame, print known fields and unknown bytes.
        msg = parse(bytes.fromhex(sys.argv[2]))
        print(msg)
        print("serialised again:", msg.SerializeToString().hex())
    else:
        print("usage: pylm_wire.py --selftest | --decode HEX", file=sys.stderr)
        sys.exit(2)
