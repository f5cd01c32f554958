// Internal: one control connection served in both eras. The SDK's `serveStdio` entry, given the connection's
// transport, pins the connection to the era of its first message (an `initialize` → 2025-11-25, a request with the
// 2026-07-28 `_meta` envelope → 2026-07-28, `server/discover` answered without pinning), builds one server for it
// from the factory, answers `server/discover` and `subscriptions/listen`, and routes the server's list-changed and
// resource-updated notifications onto the listen streams of a 2026-07-28 connection.
//
// `serveStdio` delivers messages to the server without the transport's `extra`, so the user a request is made for
// (`authInfo`, from the user token in its `_meta`) is carried around it: the wire remembers it per message object,
// and the server's channel gets it back on delivery.

import type { JSONRPCMessage, MessageExtraInfo, Transport, TransportSendOptions } from "../core/_sdk.ts";
import { serveStdio } from "../core/_sdk.ts";
import type { Logger } from "../core/logger.ts";
import type { AuthInfo } from "./_auth_guard.ts";
import type { DualEraServer } from "./_dual_era.ts";
import type { RenewingTransport } from "./_renewing_transport.ts";
import { instrumentServer } from "../core/_telemetry.ts";

/** The connection's transport as `serveStdio` sees it: the renewing transport, with `authInfo` kept aside. */
class ConnectionWire implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;

  #inner: RenewingTransport;
  #auth = new WeakMap<object, AuthInfo>();

  constructor(inner: RenewingTransport, onfinish: () => void) {
    this.#inner = inner;
    inner.onmessage = (message, extra) => {
      if (extra?.authInfo) this.#auth.set(message, extra.authInfo);
      this.onmessage?.(message);
    };
    inner.onerror = (error) => this.onerror?.(error);
    inner.onclose = () => {
      onfinish();
      this.onclose?.();
    };
  }

  /** The user a delivered message was sent for, when its request carried a user token. */
  authOf(message: JSONRPCMessage): AuthInfo | undefined {
    return this.#auth.get(message);
  }

  start(): Promise<void> {
    return this.#inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.#inner.send(message, options);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** Hands each delivered message's `authInfo` back to the product's channel once `serveStdio` has connected it. */
function withAuthInfo(product: DualEraServer, wire: ConnectionWire): DualEraServer {
  const connect = product.connect.bind(product);
  product.connect = async (channel: Transport): Promise<void> => {
    await connect(channel);
    const deliver = channel.onmessage;
    channel.onmessage = (message, extra) => {
      const authInfo = wire.authOf(message);
      deliver?.(message, authInfo ? { ...extra, authInfo } : extra);
    };
  };
  return product;
}

/** Options of {@link serveControlConnection}. */
export interface ControlConnectionOptions {
  /** Builds a further server for the connection (after a discarded `server/discover` probe). */
  build: () => DualEraServer;
  /** Called when the transport has closed. */
  onclose: () => void;
  /** Where out-of-band errors are logged. */
  logger: Logger;
  /** The member, for log lines. */
  serverId: string;
}

/** A control connection being served. */
export interface ControlConnection {
  /** The server currently serving the connection (the probe's or the pinned one), if any. */
  readonly server: DualEraServer | undefined;
}

/**
 * Serves a control connection in the era its first message picks. `first` (already built, so that a throwing
 * factory refused the upgrade) serves the connection; a later server comes from `build`.
 */
export function serveControlConnection(
  transport: RenewingTransport,
  first: DualEraServer,
  options: ControlConnectionOptions,
): ControlConnection {
  const wire = new ConnectionWire(transport, options.onclose);
  let unused: DualEraServer | undefined = first;
  const connection: { server: DualEraServer | undefined } = { server: undefined };
  serveStdio(() => {
    const product = unused ?? options.build();
    unused = undefined;
    connection.server = product;
    // With OpenTelemetry on, each request is a server span, a child of the trace context in its `_meta`.
    return instrumentServer(withAuthInfo(product, wire), {
      protocol: "websocket",
      attributes: { "federation.member.id": options.serverId, "federation.channel": "control" },
    });
  }, {
    transport: wire,
    onerror: (error) =>
      options.logger.debug("Control connection error", { serverId: options.serverId, error: String(error) }),
  });
  return connection;
}
