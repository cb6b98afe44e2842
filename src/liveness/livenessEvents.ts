/** The events a distributing server emits about its workers (defined beside its delivery machine). */
export type { LivenessEvent, RedeliveryReason } from "../../machines/deliveryTypes.js";
