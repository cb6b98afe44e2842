import type { AnyActorRef, InspectionEvent } from "xstate";

/**
 * Connects an observer to an actor system's inspection stream only while it is wanted, and can shut it
 * for a while. xstate builds an inspection event for every event, action, microstep and snapshot of
 * every actor while any observer is subscribed, so an inspector that stays subscribed slows the whole
 * message path; one that subscribes while a page is connected (or a trace recorded) and pauses once its
 * share of hops for the window is taken costs little however busy the server is.
 *
 * @internal
 */
export class InspectionTap {
  readonly #observe: (event: InspectionEvent) => void;
  readonly #onResume: (pausedMs: number) => void;
  #actor: AnyActorRef | undefined;
  #subscription: { unsubscribe(): void } | undefined;
  #wanted = false;
  #pausedAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /**
   * @param observe - called with every inspection event while the tap is open
   * @param onResume - called when a pause ends, with how long it lasted, before events flow again
   */
  constructor(observe: (event: InspectionEvent) => void, onResume: (pausedMs: number) => void) {
    this.#observe = observe;
    this.#onResume = onResume;
  }

  /** Whether events flow now. */
  get open(): boolean {
    return this.#subscription !== undefined;
  }

  /** Whether a pause is under way. */
  get paused(): boolean {
    return this.#pausedAt !== undefined;
  }

  /** The root actor whose system is observed. */
  attach(actor: AnyActorRef): void {
    this.#actor = actor;
    this.#sync();
  }

  /** Opens the tap (unless paused) when someone follows, shuts it when nobody does. */
  want(wanted: boolean): void {
    this.#wanted = wanted;
    this.#sync();
  }

  /**
   * Shuts the tap for `ms` milliseconds; events that happen meanwhile are not seen. The pause's timer is a
   * plain unref'd one, not a delayed event on the actor clock: it is the inspector's own throttle, holding
   * no state of the server (a lost pause loses nothing), and an actor in the observed system would itself
   * send the inspection events the pause is there to shut out.
   */
  pause(ms: number): void {
    if (this.#closed || this.#pausedAt !== undefined) return;
    this.#pausedAt = Date.now();
    this.#sync();
    this.#timer = setTimeout(() => {
      const pausedMs = Date.now() - (this.#pausedAt ?? Date.now());
      this.#pausedAt = undefined;
      this.#timer = undefined;
      this.#onResume(pausedMs);
      this.#sync();
    }, ms).unref();
  }

  /** Unsubscribes for good; returns how long a pause under way had lasted, if one was. Idempotent. */
  close(): number | undefined {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const pausedMs = this.#pausedAt === undefined ? undefined : Date.now() - this.#pausedAt;
    this.#pausedAt = undefined;
    this.#sync();
    return pausedMs;
  }

  #sync(): void {
    const open = !this.#closed && this.#wanted && this.#pausedAt === undefined && this.#actor !== undefined;
    if (open && !this.#subscription) this.#subscription = this.#actor?.system.inspect(this.#observe);
    else if (!open && this.#subscription) {
      this.#subscription.unsubscribe();
      this.#subscription = undefined;
    }
  }
}
