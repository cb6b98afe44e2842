import net from "node:net";
import * as zmq from "zeromq";
import { msgpackCodec } from "../../src/codec/index.js";
import { createMessage } from "../../src/message.js";
import { seededRandom } from "../../src/testing/seededRandom.js";

/** The kinds of hostile peer the envelope fuzzer plays. */
export type FuzzPeer = "dealer" | "router" | "req" | "push" | "xsub" | "raw";

/** Every kind of hostile peer, in the order they are reported. */
export const FUZZ_PEERS: readonly FuzzPeer[] = ["dealer", "router", "req", "push", "xsub", "raw"];

/** Frames sent to one endpoint, by kind of peer. */
export type FuzzCounts = Record<FuzzPeer, number>;

const EMPTY = Buffer.alloc(0);

/**
 * Makes malformed multipart envelopes: no delimiter, delimiters only, several delimiters, fake routing ids,
 * many or empty frames, truncated and garbage PalmMessages, and a few well-formed cache requests.
 */
export function envelopeMaker(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const bytes = (n: number) => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = int(256);
    return b;
  };
  const body = (): Buffer => {
    switch (int(5)) {
      case 0:
        return bytes(int(64));
      case 1: {
        const good = msgpackCodec.encodeOne(createMessage({ function: "server.get", payload: bytes(8) }));
        return good.subarray(0, int(good.length));
      }
      case 2:
        return msgpackCodec.encodeOne(createMessage({ function: "server.get", payload: Buffer.from("k") }));
      case 3:
        return EMPTY;
      default:
        return Buffer.from([0x92, 0xa6, ...Buffer.from("palm/1"), int(256)]);
    }
  };
  /** One multipart message as a DEALER, ROUTER (after its routing id) or raw peer sends it. */
  const envelope = (): Buffer[] => {
    switch (int(8)) {
      case 0:
        // The shape of the reported failure: two frames, no REQ envelope.
        return [bytes(1 + int(8)), body()];
      case 1:
        return [EMPTY];
      case 2:
        return [EMPTY, EMPTY, body()];
      case 3:
        return [bytes(5), EMPTY, body()];
      case 4:
        return Array.from({ length: 2 + int(30) }, () => (int(3) === 0 ? EMPTY : bytes(int(16))));
      case 5:
        return [body()];
      case 6:
        return [EMPTY, body(), body()];
      default:
        return [EMPTY, body()];
    }
  };
  return { int, bytes, body, envelope };
}

const ZMTP_TYPES = ["DEALER", "ROUTER", "REQ", "REP", "PUSH", "PULL", "SUB", "XSUB", "PUB", "PAIR", "BOGUS"];

function zmtpFrame(body: Buffer, more: boolean, command = false): Buffer {
  const flags = (more ? 1 : 0) | (command ? 4 : 0);
  if (body.length < 256) return Buffer.concat([Buffer.from([flags, body.length]), body]);
  const head = Buffer.alloc(9);
  head[0] = flags | 2;
  head.writeBigUInt64BE(BigInt(body.length), 1);
  return Buffer.concat([head, body]);
}

/** A ZMTP 3.0 NULL greeting and READY command declaring `socketType`, as a raw TCP peer writes them. */
function zmtpHandshake(socketType: string): Buffer {
  const greeting = Buffer.alloc(64);
  // As libzmq writes it: 0xFF, a (ZMTP 1.0) length of 1 in bytes 1-8, then 0x7F.
  greeting[0] = 0xff;
  greeting[8] = 1;
  greeting[9] = 0x7f;
  greeting[10] = 3;
  greeting.write("NULL", 12, "latin1");
  const name = Buffer.from("Socket-Type");
  const value = Buffer.from(socketType);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(value.length);
  const ready = Buffer.concat([
    Buffer.from([5]),
    Buffer.from("READY"),
    Buffer.from([name.length]),
    name,
    size,
    value,
  ]);
  return Buffer.concat([greeting, zmtpFrame(ready, false, true)]);
}

/**
 * Sends `messages` malformed multipart envelopes to `address` from each kind of peer in `peers`, fresh
 * peers every few messages (a new DEALER for each of the reported failure's messages): DEALER and ROUTER
 * sockets (the ROUTER addressing the bound socket by an alias), relaxed REQ sockets (a valid REQ envelope
 * around malformed bodies), PUSH and XSUB sockets (what a PULL and an XPUB accept), and raw TCP peers writing a ZMTP handshake that declares a random socket type,
 * then frames with bogus envelopes, bad flags and length claims, or plain garbage. Resolves with what each
 * kind sent; every socket it opened is closed.
 */
export async function fuzzEndpoint(
  address: string,
  seed: number,
  messages: number,
  peers: readonly FuzzPeer[] = FUZZ_PEERS,
): Promise<FuzzCounts> {
  const make = envelopeMaker(seededRandom(seed));
  const counts: FuzzCounts = { dealer: 0, router: 0, req: 0, push: 0, xsub: 0, raw: 0 };
  const perPeer = 10;
  const send = async (socket: zmq.Socket & { send(frames: Buffer[]): Promise<void> }, frames: Buffer[]) => {
    // A peer that cannot send (nobody to route to, or the bound socket does not read) moves on.
    await Promise.race([socket.send(frames).catch(() => undefined), new Promise((r) => setTimeout(r, 50))]);
  };
  const dealers = async () => {
    while (counts.dealer < messages) {
      const dealer = new zmq.Dealer({ linger: 100, sendTimeout: 0 });
      dealer.connect(address);
      for (let i = 0; i < perPeer && counts.dealer < messages; i++, counts.dealer++)
        await send(dealer, make.envelope());
      await new Promise((r) => setTimeout(r, make.int(5)));
      dealer.close();
    }
  };
  const routers = async () => {
    while (counts.router < messages) {
      const router = new zmq.Router({ linger: 100, sendTimeout: 0 });
      router.connect(address, { routingId: "peer" });
      await new Promise((r) => setTimeout(r, 5));
      for (let i = 0; i < perPeer && counts.router < messages; i++, counts.router++)
        await send(router, [Buffer.from("peer"), ...make.envelope()]);
      router.close();
    }
  };
  const requests = async () => {
    while (counts.req < messages) {
      const req = new zmq.Request({
        linger: 100,
        sendTimeout: 0,
        relaxed: true,
        correlate: make.int(2) === 0,
      });
      req.connect(address);
      for (let i = 0; i < perPeer && counts.req < messages; i++, counts.req++) {
        const frames = make.envelope().filter((_, k) => k > 0 || make.int(2) === 0);
        await send(req, frames.length > 0 ? frames : [EMPTY]);
      }
      req.close();
    }
  };
  // The peers a PULL and an XPUB take (the others fail their handshake): multipart bodies of any shape.
  const pushes = async () => {
    while (counts.push < messages) {
      const push = new zmq.Push({ linger: 100, sendTimeout: 0 });
      push.connect(address);
      for (let i = 0; i < perPeer && counts.push < messages; i++, counts.push++)
        await send(push, make.envelope());
      push.close();
    }
  };
  const xsubs = async () => {
    while (counts.xsub < messages) {
      const xsub = new zmq.XSubscriber({ linger: 100, sendTimeout: 0 });
      xsub.connect(address);
      for (let i = 0; i < perPeer && counts.xsub < messages; i++, counts.xsub++) {
        const frames = make.envelope();
        // Some look like (un)subscriptions, most are not.
        if (make.int(3) === 0) frames[0] = Buffer.concat([Buffer.from([make.int(3)]), frames[0]!]);
        await send(xsub, frames);
      }
      xsub.close();
    }
  };
  const [host, port] = address.replace("tcp://", "").split(":") as [string, string];
  const raws = async () => {
    while (counts.raw < messages) {
      const n = Math.min(perPeer, messages - counts.raw);
      counts.raw += n;
      const chunks: Buffer[] = [];
      if (make.int(8) > 0) chunks.push(zmtpHandshake(ZMTP_TYPES[make.int(ZMTP_TYPES.length)]!));
      for (let i = 0; i < n; i++) {
        const frames = make.envelope();
        if (make.int(10) === 0) chunks.push(make.bytes(1 + make.int(200)));
        else if (make.int(20) === 0) {
          // A frame claiming far more than any maximum message size, then nothing.
          const head = Buffer.alloc(9);
          head[0] = 2;
          head.writeBigUInt64BE(2n ** 40n, 1);
          chunks.push(head);
        } else
          for (let k = 0; k < frames.length; k++) chunks.push(zmtpFrame(frames[k]!, k < frames.length - 1));
      }
      await new Promise<void>((resolve) => {
        const socket = net.connect(Number(port), host, () => {
          socket.write(Buffer.concat(chunks));
          setTimeout(() => socket.destroy(), 10 + make.int(20));
        });
        socket.on("error", () => undefined);
        socket.on("close", () => resolve());
      });
    }
  };
  const run: Record<FuzzPeer, () => Promise<void>> = {
    dealer: dealers,
    router: routers,
    req: requests,
    push: pushes,
    xsub: xsubs,
    raw: raws,
  };
  await Promise.all(peers.map((peer) => run[peer]()));
  return counts;
}
