"""A worker that behaves on the wire like pylm's Worker (pylm.servers.Worker).

Start-up: a REQ socket to the master's cache (--db) asks, with function "_.get",
for `worker_push_address` (the master's PUSH; our PULL connects there) and
`worker_pull_address` (the master's PULL; our PUSH connects there), unless they
are given with --push / --pull.

Loop, one message at a time:
  1. recv one frame on PULL and parse it as a PalmMessage;
  2. the entry to run is function.split()[stage] when `function` contains a space,
     else `function`; the part after the dot names the method (the part before it,
     the server name, is not checked by a pylm worker);
  3. payload = method(payload);
  4. PUSH the re-serialised message back (all other fields, and unknown fields such
     as palm's 7/8, unchanged; stage is NOT incremented by a worker).
When the method is unknown or raises, pylm logs the error and sends the message
back with payload b'0' (pylm's default result).  --on-error=unchanged sends the
payload back unchanged instead.

Functions: echo (payload), upper (payload.upper()), tag (b'py:' + payload),
fail (raises, to exercise the error path).

Usage: pylm_worker.py --name NAME --db tcp://127.0.0.1:PORT
Prints READY once connected; stops on SIGTERM (exit 0).
"""

import sys

import zmq

sys.dont_write_bytecode = True  # no __pycache__ inside the repo
import pylm_wire as wire  # noqa: E402


class Functions:
    def echo(self, payload):
        return payload

    def upper(self, payload):
        return payload.upper()

    def tag(self, payload):
        return b"py:" + payload

    def fail(self, payload):
        raise RuntimeError("fail() always fails")


def run_one(functions, message, on_error):
    """Return the new payload for `message`, pylm style."""
    entry = wire.stage_function(message)
    name = entry.split(".")[1] if "." in entry else entry
    method = getattr(functions, name, None) if not name.startswith("_") else None
    fallback = b"0" if on_error == "zero" else message.payload
    if method is None:
        wire.log("worker: function %s was not found" % name)
        return fallback
    try:
        return method(message.payload)
    except Exception as exc:
        wire.log("worker: user function %s gave an error: %r" % (name, exc))
        return fallback


def main():
    p = wire.arg_parser("pylm-compatible worker")
    p.add_argument("--name", required=True, help="worker name (a label, as in pylm)")
    p.add_argument("--db", required=True, help="the master's cache (REP) address")
    p.add_argument("--push", help="master's worker PUSH address (default: ask the cache)")
    p.add_argument("--pull", help="master's worker PULL address (default: ask the cache)")
    p.add_argument("--on-error", choices=("zero", "unchanged"), default="zero",
                   help="payload sent back for unknown/failing functions (pylm: b'0')")
    p.add_argument("--timeout", type=float, default=20, help="cache answer timeout, s")
    args = p.parse_args()

    stopper = wire.Stopper()
    ctx = zmq.Context()
    client_id = wire.new_id()
    db = wire.req_socket(ctx, args.db, args.timeout)
    try:
        push_to_us = args.push or wire.cache_get(db, "worker_push_address", client=client_id).decode()
        pull_from_us = args.pull or wire.cache_get(db, "worker_pull_address", client=client_id).decode()
    except wire.Timeout as exc:
        wire.log("worker:", exc)
        ctx.destroy(linger=0)
        return 1
    except SystemExit:  # SIGTERM while waiting for the master
        ctx.destroy(linger=0)
        raise
    if not push_to_us or not pull_from_us:
        wire.log("worker: master cache has no worker addresses")
        ctx.destroy(linger=0)
        return 1

    pull = ctx.socket(zmq.PULL)
    pull.setsockopt(zmq.LINGER, 0)
    pull.connect(push_to_us)
    push = ctx.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 1000)  # let the last results leave on shutdown
    push.connect(pull_from_us)
    wire.ready()

    functions = Functions()
    stopper.in_loop = True
    while not stopper.stopped:
        if not pull.poll(100):
            continue
        data = pull.recv()
        try:
            message = wire.parse(data)
        except Exception as exc:
            # pylm would resend its previous message object with payload b'0'; we drop.
            wire.log("worker: message could not be decoded:", exc)
            continue
        message.payload = run_one(functions, message, args.on_error)
        push.send(message.SerializeToString())

    pull.close()
    db.close()
    push.close()
    ctx.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
