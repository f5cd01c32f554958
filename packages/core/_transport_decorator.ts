// Internal: the base of a transport that wraps another (the SDK's `Transport` seam): everything is handed through to
// `inner` and back; a subclass overrides `send` and/or `receive` for what it adds. Used by the proxy's relation,
// identity and stdio-relation decorators.
import type { JSONRPCMessage, MessageExtraInfo, Transport, TransportSendOptions } from "./_sdk.ts";

/** A `Transport` that hands everything through to `inner`; subclasses override `send` and `receive`. */
export class TransportDecorator implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;
  /** The transport wrapped. */
  readonly inner: Transport;

  constructor(inner: Transport) {
    this.inner = inner;
    inner.onclose = () => this.onclose?.();
    inner.onerror = (error) => this.onerror?.(error);
    inner.onmessage = (message, extra) => this.receive(message, extra);
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  /** Whether `inner` opens one request per message (the v2 SDK then cancels a 2026-07-28 request by aborting it). */
  get hasPerRequestStream(): boolean {
    return this.inner.hasPerRequestStream === true;
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }

  setSupportedProtocolVersions(versions: string[]): void {
    this.inner.setSupportedProtocolVersions?.(versions);
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.inner.send(message, options);
  }

  /** A message from `inner`, on its way to `onmessage`. */
  protected receive(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    this.onmessage?.(message, extra);
  }
}
