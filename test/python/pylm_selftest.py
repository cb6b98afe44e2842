"""Python-only end-to-end check of the pylm_* programs on loopback.

    /usr/bin/python3 test/python/pylm_selftest.py

Starts pylm_master.py and pylm_worker.py on random free ports, runs pylm_client.py
against them, checks every result, stops the servers with SIGTERM and checks they
exit 0.  This is also a worked example of how a Node test drives the programs.
"""

import os
import signal
import socket
import subprocess
import sys
import time

import zmq

sys.dont_write_bytecode = True  # no __pycache__ inside the repo
import pylm_wire as wire  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(script, *args):
    proc = subprocess.Popen([PY, os.path.join(HERE, script), *args],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    assert line == "READY", "%s said %r" % (script, line)
    return proc


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0, "exit code %s" % proc.returncode


def client(*args):
    out = subprocess.run([PY, os.path.join(HERE, "pylm_client.py"), *args],
                         capture_output=True, text=True, timeout=60)
    return out.returncode, out.stdout.splitlines(), out.stderr


def check(name, ok):
    print(("ok   " if ok else "FAIL ") + name, flush=True)
    if not ok:
        sys.exit(1)


def main():
    addr = {k: "tcp://127.0.0.1:%d" % free_port()
            for k in ("pull", "pub", "worker-pull", "worker-push", "db")}
    master = start("pylm_master.py", "--name", "m", *[a for k, v in addr.items() for a in ("--" + k, v)])
    worker = start("pylm_worker.py", "--name", "w1", "--db", addr["db"])
    db = addr["db"]
    try:
        n = 100
        rc, lines, err = client("--server", "m", "--db", db, "--function", "m.upper",
                                "--messages", str(n), "--payload-prefix", "abc")
        check("job: 100 x m.upper", rc == 0 and lines[-1] == "DONE 100"
              and sorted(lines[:-1]) == sorted("ABC%d" % i for i in range(n)))

        rc, lines, _ = client("--server", "m", "--db", db, "--function", "m.tag",
                              "--messages", "5", "--eval")
        check("eval: 5 x m.tag in order", rc == 0 and lines == ["py:msg-%d" % i for i in range(5)] + ["DONE 5"])

        # Two-stage function list: the worker runs function.split()[stage].
        rc, lines, _ = client("--server", "m", "--db", db, "--functions", "m.upper m.tag",
                              "--messages", "3")
        check("functions 'm.upper m.tag' at stage 0 -> upper",
              rc == 0 and sorted(lines[:-1]) == ["MSG-0", "MSG-1", "MSG-2"])
        rc, lines, _ = client("--server", "m", "--db", db, "--functions", "m.upper m.tag",
                              "--messages", "3", "--stage", "1")
        check("functions 'm.upper m.tag' at stage 1 -> tag",
              rc == 0 and sorted(lines[:-1]) == ["py:msg-0", "py:msg-1", "py:msg-2"])

        rc, lines, _ = client("--server", "m", "--db", db, "--function", "m.nope", "--messages", "1")
        check("unknown function -> payload b'0' (pylm)", rc == 0 and lines == ["0", "DONE 1"])

        rc, _, err = client("--server", "other", "--db", db, "--function", "m.echo")
        check("wrong server name -> exit 1", rc == 1 and "wrong server" in err)

        # Cache service, spoken directly.
        ctx = zmq.Context()
        req = wire.req_socket(ctx, db, 5)
        key = wire.cache_set(req, b"value", server="m")
        check("cache set without key -> new key", len(key) == 36)
        check("cache get", wire.cache_get(req, key, server="m") == b"value")
        check("cache set with key", wire.cache_set(req, b"v2", key="k") == "k")
        check("cache delete answers key", wire.cache_delete(req, "k") == "k")
        check("cache get absent -> b''", wire.cache_get(req, "k") == b"")
        check("cache preset name", wire.cache_get(req, "name") == b"m")
        ctx.destroy(linger=0)

        # Unknown fields 7/8 survive master and worker.
        ctx = zmq.Context()
        sub = ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.SUBSCRIBE, b"raw-client")
        sub.connect(addr["pub"])
        push = ctx.socket(zmq.PUSH)
        push.connect(addr["pull"])
        time.sleep(0.5)
        extra = bytes([7 << 3 | 2, 3]) + b"err" + bytes([8 << 3 | 2, 2]) + b"id"
        msg = wire.PalmMessage(pipeline="p", client="raw-client", function="m.echo", payload=b"x")
        push.send(msg.SerializeToString() + extra)
        assert sub.poll(10000)
        topic, data = sub.recv_multipart()
        back = wire.parse(data)
        check("unknown fields 7/8 kept through master+worker", extra[:5] in data and extra[5:] in data
              and topic == b"raw-client" and back.payload == b"x")
        check("master stamped cache with a uuid", len(back.cache) == 36)
        ctx.destroy(linger=0)
    finally:
        stop(worker)
        stop(master)
    rc, _, err = client("--server", "m", "--db", db, "--function", "m.echo", "--timeout", "1")
    check("client times out -> exit 1", rc == 1 and "timeout" in err)
    check("master and worker exited 0 on SIGTERM", True)


if __name__ == "__main__":
    main()
