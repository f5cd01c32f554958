// Internal: a modern member's `subscriptions/listen` stream, the 2026-07-28 replacement of the GET stream and of
// `resources/subscribe`. On a member with a control channel it rides that channel and asks for every list change
// (the catalog refreshes from them, as from a legacy member's notifications) and for the resources subscribed to;
// on a data-only member it is opened only while resources are subscribed to: registration opens no standing stream
// there (the catalog follows such a member's lists by their cache hints instead). The stream is replaced (make
// before break) when its filter changes, re-opened on every new connection, and after a drop of the stream alone.
import type { Channel, FederationError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { Client } from "../core/_sdk.ts";
import { toFederationError } from "./_errors.ts";

/** The SDK's handle of an open stream. */
type McpSubscription = Awaited<ReturnType<Client["listen"]>>;
/** What a stream asks for. */
type SubscriptionFilter = Parameters<Client["listen"]>[0];

/** What a {@link ListenStream} needs of its member. */
export interface ListenSettings {
  serverId: string;
  logger: Logger;
  /** Timeout of the acknowledgement, in ms. */
  timeout: number;
  /** The channel that carries the stream. */
  carrier: Channel;
  /** Reports a failure to open the stream (it changes no state). */
  emitError: (cause: FederationError) => void;
}

/** How long to wait before re-opening a stream the member ended while the connection stayed up, in ms. */
const RELISTEN_DELAY_MS = 1_000;

/** One member's listen stream. */
export class ListenStream {
  #settings: ListenSettings;
  #client: Client | undefined;
  #subscription: McpSubscription | undefined;
  #uris = new Set<string>();
  #closed = false;
  #version = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #honored: SubscriptionFilter | undefined;

  constructor(settings: ListenSettings) {
    this.#settings = settings;
  }

  /** What the member agreed to send on the current stream (`undefined` while none is open). */
  get honored(): SubscriptionFilter | undefined {
    return this.#honored;
  }

  /** Whether a stream is open now. */
  get open(): boolean {
    return this.#subscription !== undefined;
  }

  /** A channel (re)connected: a modern connection of the carrier gets a new stream. */
  connected(kind: Channel, client: Client): void {
    if (kind !== this.#settings.carrier || this.#closed) return;
    const previous = this.#subscription;
    this.#subscription = undefined;
    this.#honored = undefined;
    // The old stream went with its connection (closed here in case it is still up).
    void previous?.close().catch(() => {});
    this.#client = client.getProtocolEra() === "modern" ? client : undefined;
    void this.#reopen();
  }

  /** Adds a resource URI to the stream's filter (re-opens it). */
  async subscribe(uri: string): Promise<void> {
    if (this.#uris.has(uri)) return;
    this.#uris.add(uri);
    try {
      await this.#reopen(true);
    } catch (error) {
      // Not subscribed: a later stream does not ask for it either.
      this.#uris.delete(uri);
      throw error;
    }
  }

  /** Removes a resource URI from the stream's filter (re-opens it, or closes it when nothing is left). */
  async unsubscribe(uri: string): Promise<void> {
    if (!this.#uris.delete(uri)) return;
    await this.#reopen(true);
  }

  /** Closes the stream for good. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    const subscription = this.#subscription;
    this.#subscription = undefined;
    void subscription?.close().catch(() => {});
  }

  #filter(): SubscriptionFilter | undefined {
    const filter: SubscriptionFilter = {};
    if (this.#settings.carrier === "control") {
      const capabilities = this.#client?.getServerCapabilities();
      if (capabilities?.tools?.listChanged) filter.toolsListChanged = true;
      if (capabilities?.prompts?.listChanged) filter.promptsListChanged = true;
      if (capabilities?.resources?.listChanged) filter.resourcesListChanged = true;
    }
    if (this.#uris.size > 0) filter.resourceSubscriptions = [...this.#uris];
    return Object.keys(filter).length > 0 ? filter : undefined;
  }

  /** Opens a stream with the current filter, then closes the one it replaces. */
  async #reopen(strict = false): Promise<void> {
    clearTimeout(this.#timer);
    const client = this.#client;
    const version = ++this.#version;
    const previous = this.#subscription;
    const filter = client && !this.#closed ? this.#filter() : undefined;
    if (!client || !filter) {
      this.#subscription = undefined;
      this.#honored = undefined;
      await previous?.close().catch(() => {});
      return;
    }
    let subscription: McpSubscription;
    try {
      subscription = await client.listen(filter, { timeout: this.#settings.timeout });
    } catch (raw) {
      // A stream given up meanwhile (closed, replaced, or its connection gone) failed as it should.
      if (!strict && (this.#closed || version !== this.#version || client !== this.#client)) return;
      const error = toFederationError(raw, {
        serverId: this.#settings.serverId,
        channel: this.#settings.carrier,
        what: "subscriptions/listen",
      });
      if (strict) throw error;
      this.#settings.emitError(error);
      return;
    }
    if (version !== this.#version || client !== this.#client || this.#closed) {
      await subscription.close().catch(() => {});
      return;
    }
    this.#subscription = subscription;
    this.#honored = subscription.honoredFilter;
    await previous?.close().catch(() => {});
    void subscription.closed.then((how) => {
      if (this.#subscription !== subscription) return;
      this.#subscription = undefined;
      this.#honored = undefined;
      if (how === "local" || this.#closed || client !== this.#client) return;
      // The member ended the stream while the connection stayed up: listen again shortly.
      this.#settings.logger.debug("Listen stream ended, re-opening", { serverId: this.#settings.serverId, how });
      this.#timer = setTimeout(() => void this.#reopen(), RELISTEN_DELAY_MS);
    });
  }
}
