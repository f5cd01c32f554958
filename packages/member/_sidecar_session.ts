// Internal: one member session of the sidecar (a control WebSocket or a data HTTP session of one proxy). It is the
// `SessionServer` serveMember() connects to the session's transport, and it relays raw JSON-RPC between that
// transport and its proxy's UpstreamLink: no MCP server of its own, no schema parsing, ids rewritten by the link.

import type { JSONRPCMessage, RequestId, Transport } from "../core/_sdk.ts";
import type { SessionServer, SessionTransport } from "./types.ts";

/** What a session needs of its proxy's upstream link (`UpstreamLink`, _sidecar_link.ts; named here, not imported,
 * so that the link and its sessions do not import each other). */
export interface SessionLink {
  attach(session: RelaySession): void;
  detach(session: RelaySession): void;
  fromSession(session: RelaySession, message: JSONRPCMessage): void;
}

/** A relay between one member session and its proxy's upstream link. */
export class RelaySession implements SessionServer {
  readonly channel: "control" | "data";
  /** When the session was opened (newest control session gets unrelated notifications). */
  readonly openedAt: number;
  #link: SessionLink;
  #transport: Transport | undefined;
  #closed = false;
  /** Requests this session sent upstream: its id → the link's upstream id. */
  readonly upstreamIds: Map<RequestId, number> = new Map();
  /** Requests the upstream sent through this session: the id they got here → the upstream's id. */
  readonly outgoing: Map<string, RequestId> = new Map();
  #next = 0;

  constructor(link: SessionLink, channel: "control" | "data", openedAt: number) {
    this.#link = link;
    this.channel = channel;
    this.openedAt = openedAt;
  }

  /** Whether the session is closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  async connect(sessionTransport: SessionTransport): Promise<void> {
    // serveMember hands a full SDK Transport; endpoints set their own onclose before connect(): chain it, as the
    // SDK's Protocol.connect() does.
    const transport = sessionTransport as unknown as Transport;
    this.#transport = transport;
    const previousClose = transport.onclose;
    transport.onclose = () => {
      previousClose?.();
      this.#finish();
    };
    const previousMessage = transport.onmessage;
    transport.onmessage = (message, extra) => {
      previousMessage?.(message, extra);
      this.#link.fromSession(this, message);
    };
    this.#link.attach(this);
    await transport.start();
  }

  async close(): Promise<void> {
    const transport = this.#transport;
    this.#finish();
    await transport?.close();
  }

  /** A new id for a request the upstream sends through this session. */
  nextOutgoingId(): string {
    return `sidecar-${this.#next++}`;
  }

  /**
   * Sends a message to the proxy; `relatedRequestId` (this session's id of a request in progress) routes it to that
   * call: a POST stream on the data channel, `_meta` on the control channel.
   */
  send(message: JSONRPCMessage, relatedRequestId?: RequestId): void {
    if (this.#closed || !this.#transport) return;
    this.#transport.send(message, relatedRequestId === undefined ? undefined : { relatedRequestId }).catch(
      () => {},
    );
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#link.detach(this);
  }
}
