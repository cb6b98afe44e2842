import type { SocketKeeper } from "../sockets/socketKeeper.js";

/**
 * The topic a palm publisher says it is alive (and that it stops) under. Every palm client subscribes to
 * it; pylm clients subscribe to their own id only, and a pipelined server's subscribers to its name, so
 * neither ever sees it (topics starting with `~` are palm's own).
 */
export const PRESENCE_TOPIC = "~palm-presence";

/**
 * A greeting topic (see `HELLO_PREFIX`) that asks for the publisher's presence as the greeting's payload,
 * so a client knows its server's instance from the start. Other greetings are answered with no payload.
 */
export const PRESENCE_HELLO_PREFIX = "~palm-hello:?";

/** Default period of a publisher's heartbeat (`PubService`'s `heartbeatMs`). */
export const DEFAULT_HEARTBEAT_MS = 1000;

/** What a publisher says about itself under `PRESENCE_TOPIC`. */
export interface Presence {
  /** `alive` every heartbeat period; `stopped` once, as the server stops. */
  readonly state: "alive" | "stopped";
  /** Differs for every start of a server: a client tells a restarted server from the same one by it. */
  readonly instance: string;
  /** The server's name. */
  readonly server: string;
  /** How often the server says it is alive (0: never). */
  readonly periodMs: number;
  /**
   * The instances of the palm servers before this one in a chain, nearest first (a `Hub` or `Pipeline`
   * following a `Server`, say): a client reading this server's results sees a restart of any of them by
   * it. Absent (read as none) from a server that follows no palm publisher, and from older palm servers.
   */
  readonly upstream?: readonly string[];
}

/** The most upstream instances a presence names: a longer chain is cut, so the frame stays small. */
export const MAX_UPSTREAM = 8;

/**
 * The payload frame of a presence message (JSON, small, codec-independent so any palm client reads it).
 * An empty `upstream` is left out, so a server that follows nobody says what older palm servers said.
 */
export function presenceFrame(presence: Presence): Buffer {
  const { upstream, ...rest } = presence;
  return Buffer.from(JSON.stringify(upstream && upstream.length > 0 ? presence : rest));
}

/** Reads `upstream`: a list of instance strings (at most `MAX_UPSTREAM`), or none for anything else. */
function readUpstream(value: unknown): readonly string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) return [];
  return value.slice(0, MAX_UPSTREAM) as string[];
}

/**
 * Reads a presence payload; undefined for anything else (an old server's empty greeting, garbage). An
 * older palm server's presence has no `upstream`: read as none, as is one that is not a list of strings.
 */
export function parsePresence(frame: Uint8Array | undefined): Presence | undefined {
  if (!frame || frame.length === 0 || frame.length > 2048) return undefined;
  try {
    const value = JSON.parse(
      Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString(),
    ) as Partial<Record<keyof Presence, unknown>>;
    if (
      (value.state !== "alive" && value.state !== "stopped") ||
      typeof value.instance !== "string" ||
      typeof value.server !== "string" ||
      typeof value.periodMs !== "number"
    ) {
      return undefined;
    }
    return {
      state: value.state,
      instance: value.instance,
      server: value.server,
      periodMs: value.periodMs,
      upstream: readUpstream(value.upstream),
    };
  } catch {
    return undefined;
  }
}

/** What a server's publishers do when a chain their presence names changes: say so at once. */
const upstreamListeners = new WeakMap<SocketKeeper, Set<() => void>>();

/** The upstream chains a server's following parts heard, by part: kept per start of the server (its keeper). */
const upstreams = new WeakMap<SocketKeeper, Map<string, readonly string[]>>();

/**
 * Records the chain of upstream instances a following part of the server heard (its publisher's instance,
 * then that one's own upstream), for the server's publishers to name in their presence.
 */
export function setUpstream(keeper: SocketKeeper, part: string, chain: readonly string[]): void {
  let byPart = upstreams.get(keeper);
  if (!byPart) {
    byPart = new Map();
    upstreams.set(keeper, byPart);
  }
  const before = byPart.get(part);
  byPart.set(part, chain);
  if (before && before.length === chain.length && before.every((instance, i) => instance === chain[i]))
    return;
  for (const listener of upstreamListeners.get(keeper) ?? []) listener();
}

/**
 * Calls `listener` whenever a following part of the server names a new chain, so its clients learn the
 * chain before its next heartbeat (a restart right after a job started must not go unseen). Returns the
 * function that stops the calls.
 */
export function onUpstreamChange(keeper: SocketKeeper, listener: () => void): () => void {
  let listeners = upstreamListeners.get(keeper);
  if (!listeners) {
    listeners = new Set();
    upstreamListeners.set(keeper, listeners);
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The upstream instances a server's presence names: every following part's chain (at most `MAX_UPSTREAM`). */
export function upstreamOf(keeper: SocketKeeper): readonly string[] {
  const byPart = upstreams.get(keeper);
  if (!byPart) return [];
  if (byPart.size === 1) return byPart.values().next().value!;
  return [...byPart.values()].flat().slice(0, MAX_UPSTREAM);
}

/** Longest a stopping server waits for its farewell to be handed to ZeroMQ (a subscriber may be stuck). */
const FAREWELL_WAIT_MS = 250;

/**
 * Tells every palm client of a stopping server's publishers that it stops (a `stopped` presence), so their
 * pending calls end at once instead of at their timeout. Sent after the server drained its parts, so
 * every result it published reaches its client first.
 */
export async function sayStopped(keeper: SocketKeeper): Promise<void> {
  const sends: Promise<unknown>[] = [];
  for (const kept of keeper.sockets()) {
    const presence = kept.presence;
    if (!presence || kept.closed) continue;
    const frames = [
      Buffer.from(PRESENCE_TOPIC),
      presenceFrame({ ...presence, state: "stopped", periodMs: 0 }),
    ];
    sends.push(kept.send(frames).catch(() => undefined));
  }
  await settleWithin(sends);
}

/**
 * Resolves once every farewell send settled, or after `FAREWELL_WAIT_MS` (a peer may be stuck). @internal
 */
export async function settleWithin(sends: readonly Promise<unknown>[]): Promise<void> {
  if (sends.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(sends),
    new Promise((resolve) => {
      timer = setTimeout(resolve, FAREWELL_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
}
