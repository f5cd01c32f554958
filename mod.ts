/**
 * federated-mcp: federate many MCP servers from one Deno program. Register members, authenticate to each with a
 * JWT, keep a WebSocket control channel and a Streamable HTTP data channel open to each, watch their health,
 * recover from faults, and use all their tools, resources and prompts as one.
 *
 * @example Validate a member's registration
 * ```ts
 * import { validateConfig } from "@federated-mcp/federation";
 *
 * const config = validateConfig({
 *   serverId: "server-1",
 *   endpoints: { control: "ws://localhost:3000", data: "http://localhost:3001" },
 *   auth: { type: "jwt", config: { secret: "a-secret-of-at-least-thirty-two-bytes!!" } },
 * });
 * console.log(config.serverId);
 * ```
 * @module
 */

export {
  AuthenticationError,
  AuthManager,
  CancelledError,
  checkSecretStrength,
  CloseCode,
  ConfigError,
  ConnectionError,
  consoleLogger,
  DEFAULT_MAX_MESSAGE_BYTES,
  FederationError,
  MAX_TOKEN_LENGTH,
  MCP_SUBPROTOCOL,
  MIN_SECRET_BYTES,
  parseDuration,
  ProtocolError,
  SERVER_ID_PATTERN,
  ServerNotFoundError,
  TimeoutError,
  validateConfig,
  validateServerId,
  WebSocketTransport,
} from "./packages/core/mod.ts";
export {
  CatalogEvent,
  checkOutboundUrl,
  DEFAULT_BACKOFF,
  FederatedCatalog,
  FederationEvent,
  FederationProxy,
  METADATA_HOSTNAMES,
  ORIGIN_META_KEY,
} from "./packages/proxy/mod.ts";
export {
  DEFAULT_ADMIN_SCOPE,
  loadGatewayConfig,
  parseGatewayConfig,
  serveGateway,
  serveGatewayStdio,
  storeConfig,
} from "./packages/gateway/mod.ts";
export type {
  GatewayAuth,
  GatewayBaseOptions,
  GatewayClusterOptions,
  GatewayConfig,
  GatewayHandle,
  GatewayOptions,
  GatewaySecretAuth,
  GatewayStdioOptions,
  GatewayStoreConfig,
  LoadGatewayConfigOptions,
} from "./packages/gateway/mod.ts";
export { MemoryRegistryStore, RedisRegistryStore } from "./packages/cluster/mod.ts";
export type {
  MemoryRegistryStoreOptions,
  RedisRegistryStoreOptions,
  RegistryStore,
  StoreHealth,
} from "./packages/cluster/mod.ts";
export { MemberRpcErrorCode, RENEW_TOKEN_METHOD, serveMember } from "./packages/member/mod.ts";
export type {
  MemberDataEndpointOptions,
  MemberEndpointOptions,
  MemberHandle,
  RenewTokenParams,
  RenewTokenResult,
  ServeMemberOptions,
  SessionServer,
  SessionTransport,
} from "./packages/member/mod.ts";
export type {
  BackoffPolicy,
  CallOptions,
  CatalogCallOptions,
  CatalogEventInit,
  CatalogEventListener,
  CatalogEventType,
  CatalogFailure,
  CatalogList,
  CatalogOptions,
  ChannelState,
  ChannelStatus,
  CheckOutboundUrlOptions,
  FederationEventInit,
  FederationEventListener,
  FederationEventType,
  FederationProxyOptions,
  HostResolver,
  MemberState,
  NameOrigin,
  OutboundGuardOptions,
  PrefixMode,
  Progress,
  RegisterOptions,
  RequestOutcome,
  RequestRunner,
  RoutingPolicy,
  ServerRequest,
  ServerRequestHandler,
  ServerStatus,
  UriOrigin,
} from "./packages/proxy/mod.ts";
export type {
  AsymmetricAlgorithm,
  AuthenticationErrorCode,
  AuthenticationErrorOptions,
  AuthManagerOptions,
  CallToolResult,
  Channel,
  CompleteRequestParams,
  CompleteResult,
  ConfigErrorOptions,
  CreateTokenOptions,
  FederationAuth,
  FederationConfig,
  FederationEndpoints,
  FederationErrorCode,
  FederationErrorOptions,
  GetPromptResult,
  HmacAlgorithm,
  Implementation,
  JSONRPCMessage,
  JsonWebKeySet,
  JWK,
  JwtAuthSettings,
  JWTPayload,
  Logger,
  LoggingLevel,
  LogLevel,
  McpClient,
  McpRequestOptions,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  SecretProvider,
  ServerCapabilities,
  SigningAlgorithm,
  TokenPayload,
  Tool,
  Transport,
  ValidateConfigOptions,
  VerifyTokenOptions,
  WebSocketConnectOptions,
  WebSocketTransportOptions,
} from "./packages/core/mod.ts";
