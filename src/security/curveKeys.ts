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

/**
 * CURVE settings of a server: its keypair and who may connect. Every tcp part the server binds uses the
 * keypair (ZMQ_CURVE_SERVER); a ZAP handler lets in only the clients and workers whose public keys are
 * listed.
 */
export interface CurveServerOptions extends CurveKeyPair {
  /**
   * Public keys (Z85) of the clients and workers allowed in, or `"any"` for any peer that knows the
   * server's public key (encrypted, the server authenticated, the peers not).
   */
  readonly allowedClientKeys: readonly string[] | "any";
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
  const allowed = curve.allowedClientKeys;
  if (allowed !== "any") {
    if (!Array.isArray(allowed)) {
      throw invalidOption(`${option}.allowedClientKeys`, 'a list of CURVE public keys, or "any"', allowed);
    }
    allowed.forEach((key, i) => {
      checkCurveKey(`${option}.allowedClientKeys[${i}]`, key);
    });
  }
  return curve;
}
