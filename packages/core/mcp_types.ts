/**
 * The MCP and JOSE types that appear in this library's public API, named here so that they are documented
 * and importable from one place. They are the MCP TypeScript SDK's and jose's own types.
 *
 * @example
 * ```ts
 * import type { CallToolResult } from "@federated-mcp/federation/core";
 *
 * const result: CallToolResult = { content: [{ type: "text", text: "hi" }] };
 * console.log(result.content.length);
 * ```
 * @module
 */

import type * as Jose from "jose";
import type * as Sdk from "./_sdk.ts";

/** A tool a member offers (`tools/list`). */
export type Tool = Sdk.Tool;
/** A resource a member offers (`resources/list`). */
export type Resource = Sdk.Resource;
/** A resource template a member offers (`resources/templates/list`). */
export type ResourceTemplate = Sdk.ResourceTemplate;
/** A prompt a member offers (`prompts/list`). */
export type Prompt = Sdk.Prompt;
/** The result of `tools/call`; a tool failure is `isError: true`, not an exception. */
export type CallToolResult = Sdk.CallToolResult;
/** The result of `resources/read`. */
export type ReadResourceResult = Sdk.ReadResourceResult;
/** The result of `prompts/get`. */
export type GetPromptResult = Sdk.GetPromptResult;
/** The params of `completion/complete`: a prompt or resource-template reference and the argument to complete. */
export type CompleteRequestParams = Sdk.CompleteRequestParams;
/** The result of `completion/complete`. */
export type CompleteResult = Sdk.CompleteResult;
/** An MCP logging level, `debug` (lowest) to `emergency`. */
export type LoggingLevel = Sdk.LoggingLevel;
/** A client's or server's name and version, as sent in `initialize`. */
export type Implementation = Sdk.Implementation;
/** What a member announced it can do in `initialize`. */
export type ServerCapabilities = Sdk.ServerCapabilities;
/** One JSON-RPC 2.0 message (request, notification or response). */
export type JSONRPCMessage = Sdk.JSONRPCMessage;
/** The MCP SDK's transport interface, which {@link WebSocketTransport} implements. */
export type Transport = Sdk.Transport;
/** Options of `Transport.send`: `relatedRequestId` names the request a message is sent for. */
export type TransportSendOptions = Sdk.TransportSendOptions;
/** The MCP SDK's `Client`, handed to {@link FederationProxy.request} runners. */
export type McpClient = Sdk.Client;
/** Per-request options of the MCP SDK (`timeout`, `signal`, `onprogress`, …). */
export type McpRequestOptions = Sdk.RequestOptions;
/** A JSON Web Key. */
export type JWK = Jose.JWK;
/** The claims of a JWT. */
export type JWTPayload = Jose.JWTPayload;
