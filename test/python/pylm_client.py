"""A client that behaves on the wire like pylm's Client (pylm.clients.Client).

Start-up (pylm Client(server_name, db_address, push_address, sub_address)):
  * a REQ socket to the server's cache (--db) asks, with function "<server>.get",
    for `name` (must equal --server, else exit 1), then `pub_address` and
    `pull_address` unless --sub / --push are given;
  * client id = str(uuid4()); pipeline = str(uuid4()) (one per client);
  * SUB connects to the server's PUB and subscribes to topic = client id;
  * PUSH connects to the server's PULL;
  * sleep 0.5 s, as pylm does, so the subscription reaches the PUB.
Each request is a PalmMessage {pipeline, client, stage 0, function, cache '',
payload}; `function` is "server.fn", or several joined by single spaces (pylm's
job([...])).  Each result arrives on the SUB as two frames
[topic = client id, serialised PalmMessage]; the answer is its payload.

Default mode is pylm's job(): send all N messages, then collect N results in
arrival order.  --eval is pylm's eval(): one message, wait for its result, next.

Usage:
  pylm_client.py --server NAME --db tcp://127.0.0.1:PORT --function NAME.echo \
      --messages 100 [--payload-prefix msg-] [--eval] [--timeout 20]
  pylm_client.py ... --functions "NAME.upper NAME.tag" ...
Prints each result payload (utf-8) on its own line, then "DONE <count>".
Exit 1 (message on stderr) when nothing arrives for --timeout seconds.
"""

import sys
import time

import zmq

sys.dont_write_bytecode = True  # no __pycache__ inside the repo
import pylm_wire as wire  # noqa: E402


def main():
    p = wire.arg_parser("pylm-compatible client")
    p.add_argument("--server", required=True, help="server name; must match the cache's `name`")
    p.add_argument("--db", required=True, help="the server's cache (REP) address")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--function", help="one 'server.fn'")
    group.add_argument("--functions", help="several 'a.f b.g', one per stage")
    p.add_argument("--messages", type=int, default=1)
    p.add_argument("--payload-prefix", default="msg-")
    p.add_argument("--eval", action="store_true", help="one at a time, like Client.eval")
    p.add_argument("--push", help="server PULL address (default: ask the cache)")
    p.add_argument("--sub", help="server PUB address (default: ask the cache)")
    p.add_argument("--stage", type=int, default=0,
                   help="stage of the sent messages (pylm clients always send 0; test knob)")
    p.add_argument("--timeout", type=float, default=20, help="seconds without an answer")
    args = p.parse_args()

    function = args.function or " ".join(args.functions.split())
    ctx = zmq.Context()
    try:
        return run(ctx, args, function)
    except wire.Timeout as exc:
        wire.log("client: timeout:", exc)
        return 1
    finally:
        ctx.destroy(linger=0)


def run(ctx, args, function):
    client_id = wire.new_id()
    pipeline = wire.new_id()

    db = wire.req_socket(ctx, args.db, args.timeout)
    name = wire.cache_get(db, "name", server=args.server, client=client_id).decode("utf-8")
    if name != args.server:
        wire.log("client: you are connecting to the wrong server: %r, not %r" % (name, args.server))
        return 1
    sub_address = args.sub or wire.cache_get(db, "pub_address", server=args.server, client=client_id).decode()
    push_address = args.push or wire.cache_get(db, "pull_address", server=args.server, client=client_id).decode()

    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, client_id.encode("utf-8"))
    sub.connect(sub_address)
    push = ctx.socket(zmq.PUSH)
    push.connect(push_address)
    time.sleep(0.5)  # pylm: "PUB-SUB takes a while"

    def send(i):
        message = wire.PalmMessage(
            pipeline=pipeline, client=client_id, stage=args.stage, function=function,
            cache="", payload=(args.payload_prefix + str(i)).encode("ascii"),
        )
        push.send(message.SerializeToString())

    def receive():
        if not sub.poll(int(args.timeout * 1000)):
            raise wire.Timeout("no result within %gs" % args.timeout)
        topic, data = sub.recv_multipart()
        if topic.decode("utf-8") != client_id:  # pylm raises ValueError here
            raise ValueError("the client got a message that does not belong")
        print(wire.parse(data).payload.decode("utf-8"), flush=True)

    count = 0
    if args.eval:
        for i in range(args.messages):
            send(i)
            receive()
            count += 1
    else:
        for i in range(args.messages):
            send(i)
        for _ in range(args.messages):
            receive()
            count += 1
    print("DONE %d" % count, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
