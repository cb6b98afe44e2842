"""A tiny pylm-compatible Master, for palm clients and workers to join.

pylm's Master (pylm.servers.Master) is built from parts around a router; on the wire
it is just five bound sockets:

    --pull         PULL  clients PUSH their PalmMessages here
    --worker-push  PUSH  messages go on, round-robin, to the workers' PULL
    --worker-pull  PULL  workers PUSH results back here
    --pub          PUB   results go out as [client id, serialised PalmMessage]
    --db           REP   the cache service (see pylm_wire.cache_*)

The cache is preset with `name`, `db_address`, `pull_address`, `pub_address`,
`worker_pull_address`, `worker_push_address`, so clients and workers only need the
db address.  What the master does to a message on the way:

* client -> worker: parsed and, when `cache` is empty, stamped with a fresh
  str(uuid4()) (pylm's Inbound part does this), then re-serialised (unknown fields
  such as palm's 7/8 are kept).  Nothing else changes.
* worker -> client: parsed, published on topic = message.client, unchanged.
  With --pipelined (pylm Master(pipelined=True)) the topic is the master's name and
  stage is incremented instead, for a downstream Hub/Pipeline.

Single-threaded: one zmq.Poller loop.  Messages for workers wait in a local queue
while no worker is connected, so the cache keeps answering (a blocking PUSH would
stall it and no worker could ever learn the addresses).

With --drop-unknown, results lose the fields pylm's schema does not know (palm's error and
id), so they reach the client the way an old pylm (protobuf < 3.5) would send them.

Usage:
  pylm_master.py --name NAME --pull tcp://127.0.0.1:P1 --pub tcp://127.0.0.1:P2 \
      --worker-pull tcp://127.0.0.1:P3 --worker-push tcp://127.0.0.1:P4 --db tcp://127.0.0.1:P5 \
      [--pipelined] [--drop-unknown]
Prints READY once every socket is bound; stops on SIGTERM (exit 0).
"""

import collections
import sys

import zmq

sys.dont_write_bytecode = True  # no __pycache__ inside the repo
import pylm_wire as wire  # noqa: E402


def handle_cache(rep, cache):
    """pylm's CacheService: answer one REQ with raw bytes."""
    data = rep.recv()
    try:
        message = wire.parse(data)
        verb = message.function.split(".")[1]
    except Exception as exc:  # pylm would log; answer something so REQ is not stuck
        wire.log("master: bad cache request:", exc)
        rep.send(b"")
        return
    if verb == "set":
        key = message.cache or wire.new_id()
        cache[key] = message.payload
        rep.send(key.encode("utf-8"))
    elif verb == "get":
        rep.send(cache.get(message.payload.decode("utf-8"), b""))  # b'' when absent
    elif verb == "delete":
        key = message.payload.decode("utf-8")
        cache.pop(key, None)  # pylm raises KeyError on a missing key; we do not
        rep.send(key.encode("utf-8"))
    else:
        wire.log("master: unknown cache instruction", verb)
        rep.send(b"")


def main():
    p = wire.arg_parser("tiny pylm-compatible master")
    p.add_argument("--name", required=True)
    p.add_argument("--pull", required=True, help="bind: PULL from clients")
    p.add_argument("--pub", required=True, help="bind: PUB to clients")
    p.add_argument("--worker-pull", required=True, help="bind: PULL from workers")
    p.add_argument("--worker-push", required=True, help="bind: PUSH to workers")
    p.add_argument("--db", required=True, help="bind: REP cache service")
    p.add_argument("--pipelined", action="store_true",
                   help="publish on topic=name with stage+1 (pylm pipelined master)")
    p.add_argument("--drop-unknown", action="store_true",
                   help="drop unknown fields (palm's 7/8) from results, as protobuf < 3.5 did "
                        "and as a hook that builds new messages does")
    args = p.parse_args()

    stopper = wire.Stopper()
    stopper.in_loop = True  # nothing here blocks: always stop via the flag
    cache = {
        "name": args.name.encode("utf-8"),
        "db_address": args.db.encode("utf-8"),
        "pull_address": args.pull.encode("utf-8"),
        "pub_address": args.pub.encode("utf-8"),
        "worker_pull_address": args.worker_pull.encode("utf-8"),
        "worker_push_address": args.worker_push.encode("utf-8"),
    }

    ctx = zmq.Context()
    sockets = {}
    for key, kind, address in (
        ("pull", zmq.PULL, args.pull),
        ("pub", zmq.PUB, args.pub),
        ("worker_pull", zmq.PULL, args.worker_pull),
        ("worker_push", zmq.PUSH, args.worker_push),
        ("db", zmq.REP, args.db),
    ):
        s = ctx.socket(kind)
        s.setsockopt(zmq.LINGER, 0)
        s.bind(address)
        sockets[key] = s
    pull, pub, worker_pull, worker_push, db = (
        sockets[k] for k in ("pull", "pub", "worker_pull", "worker_push", "db"))

    to_workers = collections.deque()  # serialised messages waiting for a worker
    wire.ready()

    poller = zmq.Poller()
    while not stopper.stopped:
        poller.register(pull, zmq.POLLIN)
        poller.register(worker_pull, zmq.POLLIN)
        poller.register(db, zmq.POLLIN)
        # Ask for POLLOUT on the worker PUSH only while something is queued.
        poller.register(worker_push, zmq.POLLOUT if to_workers else 0)
        events = dict(poller.poll(100))

        if events.get(db):
            handle_cache(db, cache)

        if events.get(pull):
            data = pull.recv()
            try:
                message = wire.parse(data)
                if not message.cache:
                    message.cache = wire.new_id()  # pylm Inbound._translate_to_broker
                to_workers.append(message.SerializeToString())
            except Exception as exc:
                wire.log("master: dropping undecodable client message:", exc)

        if events.get(worker_pull):
            data = worker_pull.recv()
            try:
                message = wire.parse(data)
            except Exception as exc:
                wire.log("master: dropping undecodable worker message:", exc)
            else:
                if args.drop_unknown:
                    message.DiscardUnknownFields()
                if args.pipelined:
                    topic = args.name
                    message.stage += 1
                else:
                    topic = message.client
                pub.send_multipart([topic.encode("utf-8"), message.SerializeToString()])

        # Hand queued messages to workers without ever blocking the loop.
        while to_workers:
            try:
                worker_push.send(to_workers[0], zmq.NOBLOCK)
            except zmq.Again:
                break  # no worker connected (or all full): retry on POLLOUT
            to_workers.popleft()

    for s in sockets.values():
        s.close()
    ctx.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
