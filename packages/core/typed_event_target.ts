/**
 * An `EventTarget` whose listeners are typed per event type by an event map (type → event class), so a listener of
 * `"connected"` receives a `MemberStateEvent`, not a bare `Event`. The one home of the typed-listener boilerplate of
 * `FederationProxy` and `FederatedCatalog`.
 *
 * @module
 */

/** A listener of events of class `E`: a function or an object with `handleEvent`. */
export type TypedEventListener<E extends Event> =
  | ((event: E) => void)
  | { handleEvent(event: E): void }
  | null;

/**
 * An `EventTarget` with listeners typed by `M` (event type → event class).
 *
 * @typeParam M Each event type with the class of its events.
 * @example Typed listeners
 * ```ts
 * import { TypedEventTarget } from "@federated-mcp/federation/core";
 *
 * class Ticks extends TypedEventTarget<{ tick: CustomEvent<number> }> {}
 * const ticks = new Ticks();
 * ticks.addEventListener("tick", (event) => console.log(event.detail + 1));
 * ticks.dispatchEvent(new CustomEvent("tick", { detail: 1 }));
 * ```
 */
export class TypedEventTarget<M extends { [K in keyof M]: Event }> extends EventTarget {
  /**
   * Listens for events of one type; the listener gets that type's event class.
   *
   * @param type The event type.
   * @param listener Receives the event.
   * @param options Standard listener options.
   */
  override addEventListener<K extends keyof M & string>(
    type: K,
    listener: TypedEventListener<M[K]>,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /**
   * Removes a listener added with `addEventListener`.
   *
   * @param type The event type.
   * @param listener The listener.
   * @param options Standard listener options.
   */
  override removeEventListener<K extends keyof M & string>(
    type: K,
    listener: TypedEventListener<M[K]>,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }
}
