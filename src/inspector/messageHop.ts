import type { PalmMessage } from "../message.js";
import type { InspectorMessageHop } from "./types.js";

/** What a `redact` hook returns: the payload to preview instead (bytes or text), or `null` to show none. */
export type RedactResult = Uint8Array | string | null;

/** Keeps secrets out of the inspector: returns what to show of a message's payload (see {@link RedactResult}). */
export type RedactHook = (message: PalmMessage) => RedactResult;

/** How many payload bytes a hop previews. */
export const PREVIEW_BYTES = 32;

/** The first bytes of `bytes` as text when printable ASCII, else as hex; `…` marks a cut. */
export function previewBytes(bytes: Uint8Array): string {
  const shown = bytes.subarray(0, PREVIEW_BYTES);
  let printable = true;
  for (const byte of shown) {
    if (byte < 0x20 || byte > 0x7e) {
      printable = false;
      break;
    }
  }
  const text = printable
    ? String.fromCharCode(...shown)
    : `0x${Buffer.from(shown.buffer, shown.byteOffset, shown.length).toString("hex")}`;
  return bytes.length > PREVIEW_BYTES ? `${text}…` : text;
}

/**
 * One message at one hop, as the inspector shows it. The `redact` hook decides what of the payload is
 * previewed; a hook that throws hides the payload rather than leaking it.
 */
export function messageHop(
  message: PalmMessage,
  direction: "in" | "out",
  redact: RedactHook | undefined,
): InspectorMessageHop {
  let preview: string;
  if (redact) {
    let shown: RedactResult;
    try {
      shown = redact(message);
    } catch {
      shown = null;
    }
    preview =
      shown === null || shown === undefined
        ? "[redacted]"
        : typeof shown === "string"
          ? previewBytes(Buffer.from(shown))
          : previewBytes(shown);
  } else preview = previewBytes(message.payload);
  const fn = message.function;
  const entry = fn.indexOf(" ") === -1 ? fn : (fn.split(" ")[message.stage] ?? "");
  return {
    id: message.id ?? message.cache,
    direction,
    client: message.client,
    function: entry,
    stage: message.stage,
    size: message.payload.length,
    preview,
    ...(message.error !== undefined ? { error: message.error } : {}),
  };
}
