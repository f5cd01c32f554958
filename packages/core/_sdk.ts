// Internal: the one place the library imports the MCP SDK (v2: `@modelcontextprotocol/server`, `/client`, `/core`,
// 2.4.0; both protocol eras, 2025-11-25 "legacy" and 2026-07-28 "modern"). The client and server packages bundle
// separate copies of the shared classes (`ProtocolError`, `InMemoryTransport`, …): never `instanceof` across them;
// match on `.code` / `.status`. Server-side errors are built with the server package's classes (they map to HTTP
// statuses), client-side ones are read with the client package's.

export {
  classifyInboundRequest,
  createMcpHandler,
  createRequestStateCodec,
  hostHeaderValidationResponse,
  inputRequired,
  isLegacyRequest,
  McpServer,
  MissingRequiredClientCapabilityError,
  ProtocolError as ServerProtocolError,
  Server,
  WebStandardStreamableHTTPServerTransport,
} from "@modelcontextprotocol/server";
export type {
  EventStore,
  McpHttpHandler,
  McpRequestContext,
  ServerContext,
  ServerOptions,
} from "@modelcontextprotocol/server";
export { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio";
export {
  BAGGAGE_META_KEY,
  Client,
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  isInputRequiredResult,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResponse,
  isJSONRPCResultResponse,
  LOG_LEVEL_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  TRACEPARENT_META_KEY,
  TRACESTATE_META_KEY,
  UriTemplate,
} from "@modelcontextprotocol/client";
export { AjvJsonSchemaValidator } from "@modelcontextprotocol/client/validators/ajv";
export { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
export {
  CallToolResultSchema,
  CreateMessageResultSchema,
  CreateMessageResultWithToolsSchema,
  CreateTaskResultSchema,
  ElicitResultSchema,
  GetTaskResultSchema,
  ListRootsResultSchema,
  ResultSchema,
} from "@modelcontextprotocol/core";
export type {
  CallToolResult,
  ClientCapabilities,
  CompleteRequestParams,
  CompleteResult,
  ContentBlock,
  DiscoverResult,
  GetPromptResult,
  Implementation,
  InputRequiredResult,
  JSONRPCMessage,
  JsonSchemaType,
  JsonSchemaValidator,
  jsonSchemaValidator,
  ListPromptsResult,
  ListResourcesResult,
  ListResourceTemplatesResult,
  ListToolsResult,
  LoggingLevel,
  MessageExtraInfo,
  PriorDiscovery,
  Prompt,
  PromptMessage,
  ReadResourceResult,
  RequestId,
  RequestOptions,
  Resource,
  ResourceTemplateType as ResourceTemplate,
  ServerCapabilities,
  Tool,
  Transport,
  TransportSendOptions,
} from "@modelcontextprotocol/client";
export { ClientCredentialsProvider } from "@modelcontextprotocol/client";
