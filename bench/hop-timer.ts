/**
 * Loaded into every bench process by `palm bench --hops` (`node --import`): notes the time of every
 * ZeroMQ send and receive on the PUSH, PULL, PUB/XPUB, SUB, ROUTER and DEALER sockets (CLOCK_MONOTONIC, which every process
 * on the machine shares, in µs) and writes them to `<PALM_BENCH_HOPS_DIR>/<role>-<pid>.json` when the
 * process exits, for `hops.ts` to follow each sequential round trip from socket to socket.
 */
import { writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import * as zmq from "zeromq";
import { HOPS_DIR_ENV } from "./hops.js";

/** One socket operation: time (µs, monotonic), `send` or `recv`, the socket's class name. */
export type HopEvent = [number, "send" | "recv", string];

const dir = process.env[HOPS_DIR_ENV];
if (dir) {
  const events: HopEvent[] = [];
  const now = () => Number(process.hrtime.bigint() / 1000n);
  const base = Object.getPrototypeOf(zmq.Push.prototype) as {
    send(this: zmq.Socket, message: unknown): Promise<void>;
    receive(this: zmq.Socket): Promise<Buffer[]>;
  };
  const classes = [zmq.Push, zmq.Pull, zmq.Publisher, zmq.XPublisher, zmq.Subscriber, zmq.Router, zmq.Dealer];
  for (const socketClass of classes) {
    const name = socketClass.name;
    // Own properties of each class: the native base's methods are read-only.
    Object.defineProperty(socketClass.prototype, "send", {
      configurable: true,
      writable: true,
      value(this: zmq.Socket, message: unknown) {
        events.push([now(), "send", name]);
        return base.send.call(this, message);
      },
    });
    Object.defineProperty(socketClass.prototype, "receive", {
      configurable: true,
      writable: true,
      value(this: zmq.Socket) {
        return base.receive.call(this).then((frames) => {
          events.push([now(), "recv", name]);
          return frames;
        });
      },
    });
  }
  const role = basename(process.argv[1] ?? "process").replace(/\.[jt]s$/, "");
  process.on("exit", () => {
    writeFileSync(join(dir, `${role}-${process.pid}.json`), JSON.stringify(events));
  });
}
