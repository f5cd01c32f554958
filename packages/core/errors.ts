/**
 * Typed errors thrown by every part of the library.
 *
 * One base class, {@link FederationError}, carries a stable string `code`; a few subclasses are caught by
 * `instanceof`. Messages never contain a token or a secret.
 *
 * @example Narrow on the code
 * ```ts
 * import { FederationError, TimeoutError } from "@federated-mcp/federation/core";
 *
 * const err: unknown = new TimeoutError("Call to 'a' timed out (timeout: 10ms)", { serverId: "a" });
 * if (err instanceof FederationError) {
 *   switch (err.code) {
 *     case "ERR_TIMEOUT":
 *       console.log("timed out:", err.serverId);
 *   }
 * }
 * ```
 * @module
 */

/** Stable error codes, one per distinct failure. */
export type FederationErrorCode =
  | "ERR_CONFIG_INVALID"
  | "ERR_SERVER_EXISTS"
  | "ERR_AUTH_EXPIRED"
  | "ERR_AUTH_NOT_YET_VALID"
  | "ERR_AUTH_BAD_SIGNATURE"
  | "ERR_AUTH_WRONG_AUDIENCE"
  | "ERR_AUTH_WRONG_ISSUER"
  | "ERR_AUTH_ALG_NOT_ALLOWED"
  | "ERR_AUTH_MALFORMED"
  | "ERR_AUTH_CLAIM_INVALID"
  | "ERR_AUTH_NO_KEY"
  | "ERR_AUTH_REJECTED"
  | "ERR_CONNECTION_FAILED"
  | "ERR_CONNECTION_CLOSED"
  | "ERR_CLOSED"
  | "ERR_TIMEOUT"
  | "ERR_CANCELLED"
  | "ERR_SERVER_NOT_FOUND"
  | "ERR_NOT_FOUND"
  | "ERR_PROTOCOL"
  | "ERR_MESSAGE_TOO_LARGE";

/** Which of a member's channels an error or event concerns: control, data, or the process of a stdio member. */
export type Channel = "control" | "data" | "stdio";

/** Options shared by every {@link FederationError}. */
export interface FederationErrorOptions extends ErrorOptions {
  /** The member the failure concerns, when there is one. */
  serverId?: string;
  /** The channel the failure concerns, when there is one. */
  channel?: Channel;
}

/**
 * Base class of every error the library throws on purpose.
 *
 * @example Catch any library error
 * ```ts
 * import { ConnectionError, FederationError } from "@federated-mcp/federation/core";
 *
 * try {
 *   throw new ConnectionError("Cannot connect to 'a'", { serverId: "a", channel: "control" });
 * } catch (err) {
 *   if (err instanceof FederationError) console.log(err.code, err.serverId, err.channel);
 * }
 * ```
 */
export class FederationError extends Error {
  /** Stable machine-readable code. */
  readonly code: FederationErrorCode;
  /** The member concerned, if any. */
  readonly serverId: string | undefined;
  /** The channel concerned, if any. */
  readonly channel: Channel | undefined;

  /**
   * Creates an error.
   *
   * @param code The stable code.
   * @param message What failed, naming the bad value.
   * @param options `cause`, `serverId`, `channel`.
   */
  constructor(code: FederationErrorCode, message: string, options: FederationErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.serverId = options.serverId;
    this.channel = options.channel;
  }
}

/** Options of a {@link ConfigError}. */
export interface ConfigErrorOptions extends FederationErrorOptions {
  /** Dotted path of the bad field, e.g. `endpoints.control`. */
  field?: string;
}

/**
 * A configuration (or another input) is invalid; nothing was changed.
 *
 * @example
 * ```ts
 * import { ConfigError, validateConfig } from "@federated-mcp/federation/core";
 *
 * try {
 *   validateConfig({ serverId: "a b", endpoints: { data: "http://127.0.0.1:1" } });
 * } catch (err) {
 *   if (err instanceof ConfigError) console.log(err.field); // "serverId"
 * }
 * ```
 */
export class ConfigError extends FederationError {
  /** Dotted path of the bad field, when one field is at fault. */
  readonly field: string | undefined;

  /**
   * Creates the error.
   *
   * @param message What is wrong and the rule.
   * @param options `field`, `serverId`, `cause`; `code` defaults to `ERR_CONFIG_INVALID`.
   */
  constructor(
    message: string,
    options: ConfigErrorOptions & { code?: "ERR_CONFIG_INVALID" | "ERR_SERVER_EXISTS" } = {},
  ) {
    super(options.code ?? "ERR_CONFIG_INVALID", message, options);
    this.field = options.field;
  }
}

/** Codes an {@link AuthenticationError} can carry. */
export type AuthenticationErrorCode = Extract<FederationErrorCode, `ERR_AUTH_${string}`>;

/** Options of an {@link AuthenticationError}. */
export interface AuthenticationErrorOptions extends FederationErrorOptions {
  /** The claim that failed validation, when one did. */
  claim?: string;
}

/**
 * A token was refused: locally by {@link AuthManager.verifyToken}, or remotely (`ERR_AUTH_REJECTED`: the member
 * answered HTTP 401).
 *
 * @example
 * ```ts
 * import { AuthenticationError, AuthManager } from "@federated-mcp/federation/core";
 *
 * const auth = new AuthManager("a-secret-of-at-least-thirty-two-bytes!!");
 * try {
 *   await auth.verifyToken("not.a.token");
 * } catch (err) {
 *   if (err instanceof AuthenticationError) console.log(err.code); // "ERR_AUTH_MALFORMED"
 * }
 * ```
 */
export class AuthenticationError extends FederationError {
  /** The claim that failed, if any (`exp`, `aud`, `iss`, `nbf`, …). */
  readonly claim: string | undefined;
  /** Which check failed. */
  declare readonly code: AuthenticationErrorCode;

  /**
   * Creates the error.
   *
   * @param code Which check failed.
   * @param message What failed (never the token).
   * @param options `claim`, `serverId`, `channel`, `cause`.
   */
  constructor(code: AuthenticationErrorCode, message: string, options: AuthenticationErrorOptions = {}) {
    super(code, message, options);
    this.claim = options.claim;
  }
}

/**
 * A connection could not be made, or was lost, or the proxy is closed.
 *
 * @example
 * ```ts
 * import { ConnectionError } from "@federated-mcp/federation/core";
 *
 * const err = new ConnectionError("Connection to 'a' was lost", { serverId: "a", code: "ERR_CONNECTION_CLOSED" });
 * console.log(err.code); // "ERR_CONNECTION_CLOSED"
 * ```
 */
export class ConnectionError extends FederationError {
  /**
   * Creates the error.
   *
   * @param message What failed.
   * @param options `code` (default `ERR_CONNECTION_FAILED`), `serverId`, `channel`, `cause`.
   */
  constructor(
    message: string,
    options: FederationErrorOptions & { code?: "ERR_CONNECTION_FAILED" | "ERR_CONNECTION_CLOSED" | "ERR_CLOSED" } = {},
  ) {
    super(options.code ?? "ERR_CONNECTION_FAILED", message, options);
  }
}

/**
 * A wait ran past its deadline. Messages always contain the word "timeout" (the usage guide checks for it).
 *
 * @example
 * ```ts
 * import { TimeoutError } from "@federated-mcp/federation/core";
 *
 * const err = new TimeoutError("Call to 'a' timed out (timeout: 5000ms)", { serverId: "a", timeoutMs: 5000 });
 * console.log(err.timeoutMs); // 5000
 * ```
 */
export class TimeoutError extends FederationError {
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number | undefined;

  /**
   * Creates the error.
   *
   * @param message What timed out and after how long.
   * @param options `timeoutMs`, `serverId`, `channel`, `cause`.
   */
  constructor(message: string, options: FederationErrorOptions & { timeoutMs?: number } = {}) {
    super("ERR_TIMEOUT", message, options);
    this.timeoutMs = options.timeoutMs;
  }
}

/**
 * The caller aborted the operation through its `AbortSignal`; `cause` is the signal's reason.
 *
 * @example
 * ```ts
 * import { CancelledError } from "@federated-mcp/federation/core";
 *
 * const err = new CancelledError("Call to 'a' was cancelled", { serverId: "a" });
 * console.log(err.code); // "ERR_CANCELLED"
 * ```
 */
export class CancelledError extends FederationError {
  /**
   * Creates the error.
   *
   * @param message What was cancelled.
   * @param options `serverId`, `channel`, `cause`.
   */
  constructor(message: string, options: FederationErrorOptions = {}) {
    super("ERR_CANCELLED", message, options);
  }
}

/**
 * No member is registered under that id, or no federated entry has that name.
 *
 * @example
 * ```ts
 * import { ServerNotFoundError } from "@federated-mcp/federation/core";
 *
 * const err = new ServerNotFoundError("No server registered as 'x'", { serverId: "x" });
 * console.log(err.code); // "ERR_SERVER_NOT_FOUND"
 * ```
 */
export class ServerNotFoundError extends FederationError {
  /**
   * Creates the error.
   *
   * @param message What was looked up.
   * @param options `code` (`ERR_SERVER_NOT_FOUND` by default, `ERR_NOT_FOUND` for a catalog name), `serverId`.
   */
  constructor(
    message: string,
    options: FederationErrorOptions & { code?: "ERR_SERVER_NOT_FOUND" | "ERR_NOT_FOUND" } = {},
  ) {
    super(options.code ?? "ERR_SERVER_NOT_FOUND", message, options);
  }
}

/**
 * A member answered with a JSON-RPC error. Kept apart from local failures (timeouts, disconnects).
 *
 * @example
 * ```ts
 * import { ProtocolError } from "@federated-mcp/federation/core";
 *
 * const err = new ProtocolError("Server 'a' answered -32601: Method not found", { serverId: "a", rpcCode: -32601 });
 * console.log(err.rpcCode); // -32601
 * ```
 */
export class ProtocolError extends FederationError {
  /** The JSON-RPC error code the member sent. */
  readonly rpcCode: number;
  /** The JSON-RPC error `data`, if any. */
  readonly data: unknown;

  /**
   * Creates the error.
   *
   * @param message The member's message, prefixed with the member.
   * @param options `rpcCode`, `data`, `serverId`, `channel`, `cause`.
   */
  constructor(
    message: string,
    options: FederationErrorOptions & {
      rpcCode: number;
      data?: unknown;
      code?: "ERR_PROTOCOL" | "ERR_MESSAGE_TOO_LARGE";
    },
  ) {
    super(options.code ?? "ERR_PROTOCOL", message, options);
    this.rpcCode = options.rpcCode;
    this.data = options.data;
  }
}

/** Longest text kept of one message in the printed form of an error, in characters. */
const INSPECT_MESSAGE_LENGTH = 300;
/** Causes named in the printed form of an error, outermost first. */
const INSPECT_CAUSES = 3;

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > INSPECT_MESSAGE_LENGTH ? `${line.slice(0, INSPECT_MESSAGE_LENGTH)}…` : line;
}

// One line for a cause, whatever it is: an Error's name and message, a DOM event's type (and message, for an
// ErrorEvent) rather than the whole event and its target, anything else as a bounded string.
function causeLine(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    const tag = typeof code === "string" || typeof code === "number" ? ` [${code}]` : "";
    return firstLine(`${cause.name}${tag}: ${cause.message}`);
  }
  if (typeof Event === "function" && cause instanceof Event) {
    const message = (cause as { message?: unknown }).message;
    return firstLine(`${cause.constructor.name} '${cause.type}'${typeof message === "string" ? `: ${message}` : ""}`);
  }
  if (typeof cause === "object" && cause !== null) return firstLine(Object.prototype.toString.call(cause));
  return firstLine(String(cause));
}

// The fields worth a glance, in a fixed order: what concerns a member first, then each subclass's own.
const INSPECT_FIELDS = ["serverId", "channel", "field", "claim", "timeoutMs", "rpcCode"] as const;

/**
 * The printed form of a {@link FederationError} (what `console.error(err)` and `Deno.inspect(err)` show): one line
 * with the class, the code, the message and the member and channel; a second line summarising the cause chain
 * (at most three causes, one line each). The stack stays on `err.stack`.
 *
 * @param error The error.
 * @returns One or two lines.
 */
function inspectFederationError(error: FederationError): string {
  const fields = INSPECT_FIELDS.flatMap((name) => {
    const value = (error as unknown as Record<string, unknown>)[name];
    return value === undefined ? [] : [`${name}: ${String(value)}`];
  });
  let line = `${error.name} [${error.code}]: ${firstLine(error.message)}`;
  if (fields.length > 0) line += ` (${fields.join(", ")})`;
  const causes: string[] = [];
  let cause: unknown = error.cause;
  const seen = new Set<unknown>([error]);
  while (cause !== undefined && !seen.has(cause) && causes.length < INSPECT_CAUSES) {
    seen.add(cause);
    causes.push(causeLine(cause));
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  if (cause !== undefined && !seen.has(cause)) causes.push("…");
  return causes.length === 0 ? line : `${line}\n  caused by: ${causes.join(" ← ")}`;
}

// Installed on the prototype (not declared in the class) so that the public type stays free of computed symbols.
for (const key of [Symbol.for("Deno.customInspect"), Symbol.for("nodejs.util.inspect.custom")]) {
  Object.defineProperty(FederationError.prototype, key, {
    value(this: FederationError): string {
      return inspectFederationError(this);
    },
    writable: true,
    configurable: true,
  });
}
