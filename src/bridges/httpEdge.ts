import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Codec } from "../codec/codec.js";
import type { PalmMessage } from "../message.js";

// The HTTP edge every HTTP part shares (HttpService, HttpGateway, HttpWorker): reading a bounded body,
// answering with a status, and closing a server so nothing keeps the process alive.

/** How long an HTTP part waits for an answer by default (HttpService, HttpConnection, HttpGateway). */
export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;

/** A request body went over its limit. */
export class BodyTooLarge extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`the request body is larger than ${limit} bytes`);
    this.name = "BodyTooLarge";
    this.limit = limit;
  }
}

/** Bytes a client may still send after a 413 before its connection is cut. */
const DRAIN_ALLOWANCE = 1024 * 1024;

/**
 * Reads a request body of at most `limit` bytes. Over the limit it rejects with `BodyTooLarge` (at once when
 * `content-length` says so) and drains what follows, so the 413 reaches a client that is still sending.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers["content-length"]);
    const tooLarge = () => {
      let drained = 0;
      request.removeAllListeners("data");
      request.on("data", (chunk: Buffer) => {
        drained += chunk.length;
        if (drained > DRAIN_ALLOWANCE) request.destroy();
      });
      reject(new BodyTooLarge(limit));
    };
    if (Number.isFinite(declared) && declared > limit) {
      tooLarge();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge();
      else chunks.push(chunk);
    });
    request.once("end", () => {
      if (size <= limit) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    request.once("error", reject);
  });
}

const TEXT = "text/plain; charset=utf-8";
const BYTES = "application/octet-stream";

/** Answers with `body`: bytes as `application/octet-stream`, text as `text/plain`. Never throws. */
export function respond(
  response: ServerResponse,
  status: number,
  body: Uint8Array | string,
  headers: Record<string, string> = {},
): void {
  if (response.headersSent || response.destroyed) return;
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  response.writeHead(status, {
    "content-type": typeof body === "string" ? TEXT : BYTES,
    "content-length": String(bytes.byteLength),
    ...headers,
  });
  response.end(bytes);
}

/** Answers a text error ending with a newline, so `curl` prints it on a line of its own. */
export function respondError(
  response: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  respond(response, status, text.endsWith("\n") ? text : `${text}\n`, headers);
}

/** Encodes the answer to one request: every message in one frame where the codec batches, else the first. */
export function encodeAnswer(codec: Codec, messages: PalmMessage[]): Buffer {
  return codec.batches && messages.length > 1 ? codec.encode(messages)[0]! : codec.encodeOne(messages[0]!);
}

/** The host and port an `http://host:port` address names (port 80 when absent). */
export function listenTarget(address: string): { host: string; port: number } {
  const url = new URL(address);
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port === "" ? 80 : Number(url.port) };
}

const LISTEN_RETRY_MS = [5, 10, 20, 50, 100, 200, 400, 800];

function listenOnce(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: unknown) => reject(error);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

/**
 * Starts listening; resolves once bound, rejects with the listen error (bad host, port in use). A port
 * still held by a server closed a moment ago (a restarting part's predecessor) is tried again briefly.
 */
export async function listen(server: Server, address: string, stillWanted: () => boolean): Promise<void> {
  const { host, port } = listenTarget(address);
  for (let attempt = 0; ; attempt++) {
    try {
      await listenOnce(server, host, port);
      return;
    } catch (error) {
      const wait = LISTEN_RETRY_MS[attempt];
      if ((error as { code?: string }).code !== "EADDRINUSE" || wait === undefined || !stillWanted())
        throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** Stops accepting, and closes every connection (idle ones now, busy ones too): nothing keeps Node alive. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      server.closeAllConnections();
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
