/**
 * Loaded into every bench process by `palm bench --hops` (`node --import`): notes the time of every
 * ZeroMQ send and receive on the PUSH, PULL, PUB/XPUB, SUB, ROUTER and DEALER sockets (CLOCK_MONOTONIC,
 * which every process on the machine shares, in µs) with the socket's class and the address it is bound or
 * connected to, and writes them to `<PALM_BENCH_HOPS_DIR>/<role>-<pid>.json` when the process exits, for
 * `hops.ts` to follow each sequential round trip from socket to socket.
 */
import { writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import * as zmq from "zeromq";
import { HOPS_DIR_ENV } from "./hops.js";

/**
 * One socket operation: time (µs, monotonic), `send` or `recv`, the socket's class name, and the address
 * it was bound or connected to last (`tcp:PORT` for TCP, whatever the host, so both ends of a connection
 * name it alike; "" before either).
 */
export type HopEvent = [number, "send" | "recv", string, string];

/** The part of an address both its ends share: the port for TCP (one side binds `*`, the other connects to a host). */
export function addressKey(address: string): string {
  const tcp = /^tcp:\/\/.*:(\d+)$/.exec(address);
  return tcp ? `tcp:${tcp[1]}` : address;
}

type Method = (this: zmq.Socket, ...args: unknown[]) => unknown;

const dir = process.env[HOPS_DIR_ENV];
if (dir) {
  const events: HopEvent[] = [];
  const addresses = new WeakMap<zmq.Socket, string>();
  const now = () => Number(process.hrtime.bigint() / 1000n);
  const base = Object.getPrototypeOf(zmq.Push.prototype) as Record<string, Method>;
  /** Defines `method` on a class's own prototype (the native base's methods are read-only). */
  const wrap = (socketClass: { prototype: object }, method: string, value: Method) =>
    Object.defineProperty(socketClass.prototype, method, { configurable: true, writable: true, value });
  const classes = [zmq.Push, zmq.Pull, zmq.Publisher, zmq.XPublisher, zmq.Subscriber, zmq.Router, zmq.Dealer];
  for (const socketClass of classes) {
    const name = socketClass.name;
    wrap(socketClass, "connect", function (address) {
      addresses.set(this, addressKey(String(address)));
      return base.connect!.call(this, address);
    });
    wrap(socketClass, "bind", function (address) {
      addresses.set(this, addressKey(String(address)));
      // A wildcard port is known once bound.
      return (base.bind!.call(this, address) as Promise<void>).then(() => {
        if (this.lastEndpoint) addresses.set(this, addressKey(this.lastEndpoint));
      });
    });
    wrap(socketClass, "send", function (message) {
      events.push([now(), "send", name, addresses.get(this) ?? ""]);
      return base.send!.call(this, message);
    });
    wrap(socketClass, "receive", function () {
      return (base.receive!.call(this) as Promise<Buffer[]>).then((frames) => {
        events.push([now(), "recv", name, addresses.get(this) ?? ""]);
        return frames;
      });
    });
  }
  const role = basename(process.argv[1] ?? "process").replace(/\.[jt]s$/, "");
  process.on("exit", () => {
    writeFileSync(join(dir, `${role}-${process.pid}.json`), JSON.stringify(events));
  });
}
