import * as zmq from "zeromq";
import type { Logger } from "../logger.js";
import { type AllowList, allowListFor, type CurveServerOptions, type PeerGroup } from "./curveKeys.js";
import { z85Encode } from "./z85.js";

/** Where libzmq sends ZAP requests (RFC 27): one handler per ZeroMQ context. */
export const ZAP_ENDPOINT = "inproc://zeromq.zap.01";

/**
 * The ZAP domain of palm's plain-text (NULL mechanism) bound sockets. A ZAP domain makes libzmq refuse
 * ZMTP 1.0/2.0 peers, which it would otherwise take without any handshake: any TCP connection whose first
 * byte is not 0xFF would become a peer of a PUSH socket and silently receive its share of the messages.
 * The handler (when one runs in the process) lets every NULL peer of this domain in.
 */
export const NULL_ZAP_DOMAIN = "palm/null";

const PEER_GROUPS: readonly PeerGroup[] = ["clients", "workers", "both"];

/** The ZAP domain a server's part serving `peers` names: the server's domain, one per allow-list. */
export function peerZapDomain(serverDomain: string, peers: PeerGroup = "clients"): string {
  return `${serverDomain}/${peers}`;
}

/** Refused keys remembered per server (each logged once); past this, refusals are no longer logged one by one. */
const MAX_REMEMBERED_REFUSALS = 1024;
const BIND_RETRY_MS = [1, 5, 10, 20, 50, 100];

/** One server's rules: the ZAP domain its CURVE sockets name, and the client keys it lets in. */
interface ZapDomain {
  readonly allowed: ReadonlySet<string> | "any";
  readonly logger: Logger;
  /** Shared by a server's domains, so a key is logged once however many of its parts refuse it. */
  readonly refusals: Refusals;
}

/** The refused keys a server logged. */
interface Refusals {
  readonly keys: Set<string>;
  uncounted: boolean;
}

/** What the handler answered, for tests and the inspector. */
export interface ZapCounters {
  accepted: number;
  refused: number;
}

/**
 * The process's ZAP handler (ZeroMQ RFC 27): a REP socket bound to `inproc://zeromq.zap.01` in the default
 * ZeroMQ context, which libzmq asks about every peer that completes a CURVE handshake with a server socket.
 * It answers 200 for a public key the server (found by the socket's ZAP domain) allows and 400 otherwise,
 * so a refused peer's frames never reach the server. Shared by every server of the process; it opens with
 * the first CURVE server and closes with the last.
 */
class ZapHandler {
  readonly #domains = new Map<string, ZapDomain>();
  readonly counters: ZapCounters = { accepted: 0, refused: 0 };
  #socket: zmq.Reply | undefined;
  #opening: Promise<void> | undefined;

  /**
   * Registers a CURVE server's allow-lists, one ZAP domain per peer group (`peerZapDomain`); resolves once
   * the handler answers. Returns the release.
   */
  async registerServer(serverDomain: string, curve: CurveServerOptions, logger: Logger): Promise<() => void> {
    const releases: Array<() => void> = [];
    const refusals: Refusals = { keys: new Set(), uncounted: false };
    try {
      for (const peers of PEER_GROUPS) {
        const domain = peerZapDomain(serverDomain, peers);
        releases.push(await this.register(domain, allowListFor(curve, peers), logger, refusals));
      }
    } catch (error) {
      for (const release of releases) release();
      throw error;
    }
    return () => {
      for (const release of releases) release();
    };
  }

  /** Registers a server's rules under `domain`; resolves once the handler answers. Returns the release. */
  async register(
    domain: string,
    allowed: AllowList,
    logger: Logger,
    refusals: Refusals = { keys: new Set(), uncounted: false },
  ): Promise<() => void> {
    this.#domains.set(domain, { allowed: allowed === "any" ? "any" : new Set(allowed), logger, refusals });
    try {
      this.#opening ??= this.#open();
      await this.#opening;
    } catch (error) {
      this.#domains.delete(domain);
      throw error;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#domains.delete(domain);
      if (this.#domains.size === 0) this.#close();
    };
  }

  async #open(): Promise<void> {
    const socket = new zmq.Reply({ linger: 0 });
    for (let attempt = 0; ; attempt++) {
      try {
        await socket.bind(ZAP_ENDPOINT);
        break;
      } catch (error) {
        // The previous handler of this process may still be releasing the endpoint.
        const wait = BIND_RETRY_MS[attempt];
        if ((error as { code?: string }).code !== "EADDRINUSE" || wait === undefined) {
          socket.close();
          this.#opening = undefined;
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
    this.#socket = socket;
    void this.#serve(socket);
  }

  #close(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#opening = undefined;
    socket?.close();
  }

  async #serve(socket: zmq.Reply): Promise<void> {
    try {
      for await (const request of socket) await socket.send(this.#answer(request));
    } catch (error) {
      if (!socket.closed) {
        for (const domain of this.#domains.values()) {
          domain.logger.error({ err: error }, "the CURVE authenticator (ZAP handler) failed");
        }
      }
    }
  }

  /** Answers one ZAP request: [version, id, domain, address, identity, mechanism, ...credentials]. */
  #answer(frames: Buffer[]): (Buffer | string)[] {
    const [version, requestId, domainFrame, address, , mechanism, credentials] = frames;
    const reply = (status: "200" | "400" | "500", text: string, userId = "") => [
      version ?? "1.0",
      requestId ?? "",
      status,
      text,
      userId,
      "",
    ];
    if (version?.toString() !== "1.0" || !domainFrame || !mechanism) return reply("500", "bad ZAP request");
    if (domainFrame.toString() === NULL_ZAP_DOMAIN && mechanism.toString() === "NULL")
      return reply("200", "OK");
    const domain = this.#domains.get(domainFrame.toString());
    if (!domain) return reply("400", "unknown domain");
    if (mechanism.toString() !== "CURVE" || !credentials || credentials.length !== 32) {
      this.counters.refused++;
      return reply("400", "CURVE required");
    }
    const key = z85Encode(credentials);
    if (domain.allowed === "any" || domain.allowed.has(key)) {
      this.counters.accepted++;
      return reply("200", "OK", key);
    }
    this.counters.refused++;
    this.#logRefusal(domain, key, address?.toString() ?? "");
    return reply("400", "key not allowed");
  }

  #logRefusal(domain: ZapDomain, key: string, address: string): void {
    const { refusals } = domain;
    if (refusals.keys.has(key)) return;
    if (refusals.keys.size >= MAX_REMEMBERED_REFUSALS) {
      if (!refusals.uncounted) {
        refusals.uncounted = true;
        domain.logger.warn("too many refused CURVE keys: further refusals are not logged");
      }
      return;
    }
    refusals.keys.add(key);
    domain.logger.warn({ clientKey: key, address }, "CURVE peer refused: its public key is not allowed");
  }
}

/** The process's ZAP handler. */
export const zapHandler = new ZapHandler();
