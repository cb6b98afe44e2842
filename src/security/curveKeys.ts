import * as zmq from "zeromq";
import { invalidOption } from "../errors.js";
import type { CurveSocketOptions } from "../sockets/socketPlan.js";
import { checkOptionsObject } from "../validate.js";
import { z85Decode } from "./z85.js";

/** A CURVE keypair in Z85 text (40 characters each), as ZeroMQ's `zmq_curve_keypair` makes them. */
export interface CurveKeyPair {
  readonly publicKey: string;
  readonly secretKey: string;
}

/** Public keys (Z85) allowed in, or `"any"` for any peer that knows the server's public key. */
export type AllowList = readonly string[] | "any";

/**
 * Who a part's bound socket serves, and so which allow-list its CURVE peers are checked against: `clients`
 * (a server's client-facing parts), `workers` (a master's worker-facing parts), or `both` (the cache, which
 * clients and workers both read).
 */
export type PeerGroup = "clients" | "workers" | "both";

/**
 * CURVE settings of a server: its keypair and who may connect. Every tcp part the server binds uses the
 * keypair (ZMQ_CURVE_SERVER); a ZAP handler lets in only the peers whose public keys are listed: either
 * one list for everyone (`allowedClientKeys`), or two (`clients` and `workers`), so that a client's key
 * cannot join as a worker nor a worker's key call as a client. The cache takes both lists.
 */
export interface CurveServerOptions extends CurveKeyPair {
  /**
   * One list for clients and workers alike: the public keys (Z85) allowed on every part, or `"any"` for
   * any peer that knows the server's public key (encrypted, the server authenticated, the peers not).
   * Give either this or `clients` and `workers`.
   */
  readonly allowedClientKeys?: AllowList;
  /** The public keys of the clients: allowed on the client-facing parts (Pull, Pub, …) and the cache. */
  readonly clients?: AllowList;
  /**
   * The public keys of the workers: allowed on the worker-facing parts (WorkerPush, WorkerPull, and any
   * part declared with `peers: "workers"`) and the cache.
   */
  readonly workers?: AllowList;
  /**
   * For the server's own connection parts (a Hub's or Pipeline's SUB): the public key of the server they
   * connect to. They then connect as CURVE clients with this server's keypair.
   */
  readonly serverKey?: string;
}

/** Makes a new CURVE keypair (ZeroMQ's `zmq_curve_keypair`). */
export function generateKeyPair(): CurveKeyPair {
  const { publicKey, secretKey } = zmq.curveKeyPair();
  return { publicKey, secretKey };
}

/**
 * Makes a keypair and returns it as text to print (what `palm keygen` prints): the public key to hand to
 * peers, the secret key to keep.
 *
 * @example
 * process.stdout.write(keygen());
 */
export function keygen(): string {
  const { publicKey, secretKey } = generateKeyPair();
  return [
    "# palm CURVE keypair (Z85). Give the public key to peers; keep the secret key secret.",
    `public-key: ${publicKey}`,
    `secret-key: ${secretKey}`,
    "",
  ].join("\n");
}

/** Whether `value` is a CURVE key in Z85 text (40 characters, 32 bytes). */
export function isCurveKey(value: unknown): value is string {
  return typeof value === "string" && value.length === 40 && z85Decode(value) !== undefined;
}

/** Checks a CURVE key; throws an error naming `option`. */
export function checkCurveKey(option: string, value: unknown): string {
  if (!isCurveKey(value)) throw invalidOption(option, "a CURVE key (40 characters of Z85)", value);
  return value;
}

/** Checks a client's or worker's `curve` option (its keypair and the server's public key). */
export function checkCurveClient(option: string, value: unknown): CurveSocketOptions | undefined {
  if (value === undefined) return undefined;
  const curve = checkOptionsObject(option, value) as unknown as CurveSocketOptions;
  checkCurveKey(`${option}.publicKey`, curve.publicKey);
  checkCurveKey(`${option}.secretKey`, curve.secretKey);
  checkCurveKey(`${option}.serverKey`, curve.serverKey);
  return curve;
}

/** Checks a server's `curve` option. */
export function checkCurveServer(option: string, value: unknown): CurveServerOptions | undefined {
  if (value === undefined) return undefined;
  const curve = checkOptionsObject(option, value) as unknown as CurveServerOptions;
  checkCurveKey(`${option}.publicKey`, curve.publicKey);
  checkCurveKey(`${option}.secretKey`, curve.secretKey);
  if (curve.serverKey !== undefined) checkCurveKey(`${option}.serverKey`, curve.serverKey);
  const twoLists = curve.clients !== undefined || curve.workers !== undefined;
  if (twoLists && curve.allowedClientKeys !== undefined) {
    throw invalidOption(
      `${option}.allowedClientKeys`,
      "absent when `clients` and `workers` are given (one list for everyone, or two)",
      curve.allowedClientKeys,
    );
  }
  const lists = twoLists ? (["clients", "workers"] as const) : (["allowedClientKeys"] as const);
  for (const name of lists) checkAllowList(`${option}.${name}`, curve[name]);
  return curve;
}

function checkAllowList(option: string, allowed: unknown): void {
  if (allowed === "any") return;
  if (!Array.isArray(allowed)) throw invalidOption(option, 'a list of CURVE public keys, or "any"', allowed);
  allowed.forEach((key, i) => {
    checkCurveKey(`${option}[${i}]`, key);
  });
}

function union(a: AllowList, b: AllowList): AllowList {
  return a === "any" || b === "any" ? "any" : [...new Set([...a, ...b])];
}

/** The keys a server's parts serving `peers` let in (one list for all, or its `clients`/`workers` lists). */
export function allowListFor(curve: CurveServerOptions, peers: PeerGroup): AllowList {
  if (curve.clients === undefined && curve.workers === undefined) return curve.allowedClientKeys ?? [];
  const clients = curve.clients ?? [];
  const workers = curve.workers ?? [];
  if (peers === "clients") return clients;
  if (peers === "workers") return workers;
  return union(clients, workers);
}
