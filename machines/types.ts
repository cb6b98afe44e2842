import type { PalmMessage } from "../src/message.js";

export type { PalmMessage } from "../src/message.js";

/** A part's role towards the router (pylm's four classifications, the two that matter for routing). */
export type PartRole = "inbound" | "outbound" | "bypass";

/** OTP restart types: `permanent` always restarts, `transient` only after an abnormal exit, `temporary` never. */
export type RestartType = "permanent" | "transient" | "temporary";

/** Messages the router handed to an outbound part, numbered per part so acknowledgements can settle them. */
export interface Delivery {
  /** Sequence number, per target part, in delivery order. */
  readonly seq: number;
  readonly messages: PalmMessage[];
  /** The blocking inbound part waiting for this delivery's feedback, if any. */
  readonly origin: string | undefined;
  /** The origin's ticket, echoed back with the feedback. */
  readonly ticket: number;
  /**
   * How many times the origin had been restarted when it routed this: feedback meant for an instance that
   * has since crashed is dropped (that instance already answered its peer), never given to its successor.
   */
  readonly originRestarts?: number;
  /** The part that routed it. */
  readonly source?: string;
  /**
   * What the messages are about, for parts that need more than the messages: the worker a `Dispatch`
   * part sends them to, or news about workers for a master's delivery actor. A delivery with an envelope
   * may carry no message.
   */
  readonly envelope?: unknown;
}
