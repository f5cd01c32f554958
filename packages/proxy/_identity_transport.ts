// Internal: per-user identity on the control channel. The WebSocket is authenticated once, for the proxy; a request
// of a call made on behalf of a user (`CallOptions.onBehalfOf`) carries that user's own token under
// `_meta[USER_TOKEN_META_KEY]`, which the member verifies and hands to the handler (member/control_protocol.ts).
// Sits under RelatedTransport, which binds each request id to its call before sending, so the call (and its user)
// is found by id here. Sends stay in order: a request waiting for its token to be minted holds back later messages
// (a cancellation must not overtake its request).
import { isRecord } from "../core/_json.ts";
import { isRequest } from "../core/_jsonrpc.ts";
import { TransportDecorator } from "../core/_transport_decorator.ts";
import type { JSONRPCMessage, Transport, TransportSendOptions } from "../core/_sdk.ts";
import { USER_TOKEN_META_KEY } from "../member/control_protocol.ts";
import type { CallTable } from "./_relation.ts";
import type { TokenSource } from "./_token_source.ts";

/** A control-channel transport that adds the user token to the requests of calls made for a user. */
export class IdentityTransport extends TransportDecorator {
  #calls: () => CallTable | undefined;
  #tokens: TokenSource;
  #sending: Promise<void> = Promise.resolve();
  #waiting = 0;

  constructor(inner: Transport, calls: () => CallTable | undefined, tokens: TokenSource) {
    super(inner);
    this.#calls = calls;
    this.#tokens = tokens;
  }

  override send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const user = isRequest(message) ? this.#calls()?.get(message.id)?.handlers.onBehalfOf : undefined;
    if (!user && this.#waiting === 0) return this.inner.send(message, options);
    this.#waiting++;
    const sent = this.#sending.then(async () => {
      if (!user) return await this.inner.send(message, options);
      const authorization = await this.#tokens.authorizationFor(user);
      const token = authorization?.slice("Bearer ".length);
      if (token === undefined) return await this.inner.send(message, options);
      const params = isRecord((message as { params?: unknown }).params)
        ? (message as { params: Record<string, unknown> }).params
        : {};
      const meta = isRecord(params._meta) ? params._meta : {};
      const withToken = { ...message, params: { ...params, _meta: { ...meta, [USER_TOKEN_META_KEY]: token } } };
      await this.inner.send(withToken as JSONRPCMessage, options);
    }).finally(() => this.#waiting--);
    this.#sending = sent.catch(() => {});
    return sent;
  }
}
