// Internal: the 2026-07-28 ("modern") side of the gateway's MCP endpoint. Stateless: every request carries its
// version, client capabilities and client info in `_meta`; nothing is kept between requests, so any replica serves
// any request (a Multi Round-Trip retry carries its member inside the sealed `requestState`).
//
// One request's way (after the endpoint's guard: Host/Origin, body limit, token): the SDK's classification said
// "modern" → `subscriptions/listen` is answered by the gateway's own fan-out (`serveListen`), a `tools/call` has its
// `Mcp-Param-*` headers checked against the federated tool's `x-mcp-header` declarations (400 / -32020), and
// everything else goes to the SDK's `createMcpHandler` (version, envelope and header checks, `server/discover`,
// `resultType`, per-request SSE), whose factory builds a cheap `Server` with the shared catalog handlers. A `-32022`
// answer lists 2025-11-25 next to the SDK's modern versions: the same endpoint serves it too.
import type { Logger } from "../core/logger.ts";
import { isRecord } from "../core/_json.ts";
import { jsonResponse } from "../core/_http.ts";
import {
  createMcpHandler,
  type Implementation,
  type McpHttpHandler,
  type McpRequestContext,
  type RequestId,
  Server,
} from "../core/_sdk.ts";
import type { FederationProxy } from "../proxy/federation_proxy.ts";
import { modernRelation, registerCatalogHandlers } from "./_catalog_handlers.ts";
import { mergedCapabilities, mergedInstructions } from "./_discover.ts";
import type { SessionHub } from "./_hub.ts";
import { HEADER_MISMATCH, paramHeaderMismatch } from "./_mcp_param.ts";
import { discoverSource } from "./_proxy_modern.ts";
import type { RequestStateSealer } from "./_sealed_state.ts";
import { serveListen } from "./_listen.ts";

/** The revision served on this path. */
export const MODERN_VERSION = "2026-07-28";
/** The revision served on the sessionful path (listed in `-32022` answers). */
export const LEGACY_VERSION = "2025-11-25";

/** The code of an unsupported protocol version (2026-07-28 `UnsupportedProtocolVersionError`). */
const UNSUPPORTED_VERSION = -32022;

const NOOP = () => {};

/** What the modern path needs. */
export interface ModernEndpointSettings {
  proxy: FederationProxy;
  hub: SessionHub;
  serverInfo: Implementation;
  instructions: string | undefined;
  callTimeout: number | undefined;
  /** The issuer the gateway requires of client tokens (the identity calls are made for). */
  issuer: string | undefined;
  /** Seals and opens the `requestState` of Multi Round-Trip Requests (a key every replica has). */
  sealer: RequestStateSealer;
  /** SSE keep-alive comment interval of streams, in ms. */
  keepAliveMs: number;
  logger: Logger;
}

/** The verified caller of one request. */
export interface ModernCaller {
  /** The bearer token as sent (handed to the SDK as `authInfo.token`, never logged). */
  token: string | undefined;
  /** The token's subject. */
  sub: string | undefined;
}

/** A modern request as the classification proved it. */
export interface ModernRequest {
  id: RequestId | undefined;
  method: string;
  params: Record<string, unknown> | undefined;
}

/** The gateway's 2026-07-28 request handling. */
export class ModernEndpoint {
  #settings: ModernEndpointSettings;
  #handler: McpHttpHandler;

  constructor(settings: ModernEndpointSettings) {
    this.#settings = settings;
    this.#handler = createMcpHandler((context) => this.#build(context), {
      legacy: "reject",
      keepAliveMs: settings.keepAliveMs,
      onerror: (error) => settings.logger.debug("Modern request refused or failed", { error: error.message }),
    });
  }

  /**
   * Builds the server of one request: the federation's merged capabilities and instructions, the shared catalog
   * handlers, calls on behalf of the token's subject, the round trips sealed for that subject.
   */
  #build(context: McpRequestContext): Server {
    const { proxy, hub, serverInfo, instructions, callTimeout, issuer, sealer } = this.#settings;
    const extra = context.authInfo?.extra;
    const sub = typeof extra?.sub === "string" ? extra.sub : undefined;
    const source = discoverSource(proxy);
    const merged = mergedInstructions(instructions, source);
    const server = new Server(serverInfo, {
      capabilities: mergedCapabilities(source),
      ...(merged === undefined ? {} : { instructions: merged }),
    });
    registerCatalogHandlers(server, {
      hub,
      callTimeout,
      identity: sub === undefined ? undefined : { sub, ...(issuer === undefined ? {} : { iss: issuer }) },
      touch: NOOP,
      begin: (ctx) => ({ relation: modernRelation(ctx), end: NOOP }),
      modern: { sub, sealer },
    });
    return server;
  }

  /**
   * Serves one request the classification routed to the modern path (or refused: the SDK words the refusal).
   *
   * @param request The HTTP request (its body already read: `body`).
   * @param body The parsed body.
   * @param message The classified request, when it is one (not a notification or a refusal).
   * @param caller The verified token's subject.
   */
  async handle(
    request: Request,
    body: unknown,
    message: ModernRequest | undefined,
    caller: ModernCaller,
  ): Promise<Response> {
    if (message && declaresModern(request)) {
      if (message.method === "subscriptions/listen" && request.headers.get("mcp-method") === message.method) {
        return serveListen({ id: message.id ?? 0, params: message.params ?? {} }, {
          hub: this.#settings.hub,
          signal: request.signal,
          keepAliveMs: this.#settings.keepAliveMs,
        });
      }
      if (message.method === "tools/call") {
        const refused = await this.#checkParamHeaders(request, message);
        if (refused) return refused;
      }
    }
    const authInfo = {
      token: caller.token ?? "",
      clientId: caller.sub ?? "anonymous",
      scopes: [],
      extra: caller.sub === undefined ? {} : { sub: caller.sub },
    };
    const response = await this.#handler.fetch(request, { authInfo, parsedBody: body });
    return response.status === 400 ? await listLegacyVersion(response) : response;
  }

  /** Refuses a `tools/call` whose `Mcp-Param-*` headers disagree with its arguments (400 / -32020). */
  async #checkParamHeaders(request: Request, message: ModernRequest): Promise<Response | undefined> {
    const name = message.params?.name;
    if (typeof name !== "string") return undefined;
    let inputSchema: unknown;
    try {
      inputSchema = (await this.#settings.hub.catalog.listTools()).find((tool) => tool.name === name)?.inputSchema;
    } catch {
      return undefined;
    }
    if (inputSchema === undefined) return undefined;
    const mismatch = paramHeaderMismatch(request.headers, inputSchema, message.params?.arguments);
    if (mismatch === undefined) return undefined;
    return jsonResponse(400, { jsonrpc: "2.0", id: message.id ?? null, error: { code: HEADER_MISMATCH, message: mismatch } });
  }

  /** Ends the open modern exchanges. */
  async close(): Promise<void> {
    await this.#handler.close();
  }
}

/** Whether the request's version header names the revision this path serves (else the SDK answers the refusal). */
function declaresModern(request: Request): boolean {
  return request.headers.get("mcp-protocol-version") === MODERN_VERSION;
}

/** A `-32022` answer from the SDK, with 2025-11-25 added to `data.supported` (served on the same endpoint). */
async function listLegacyVersion(response: Response): Promise<Response> {
  if (!response.headers.get("content-type")?.includes("application/json")) return response;
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return new Response(text, response);
  }
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  if (error?.code === UNSUPPORTED_VERSION && isRecord(error.data) && Array.isArray(error.data.supported)) {
    if (!error.data.supported.includes(LEGACY_VERSION)) error.data.supported.push(LEGACY_VERSION);
    return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
  }
  return new Response(text, { status: response.status, headers: response.headers });
}
