// Internal: what of a client's `initialize` parameters a session id carries, and the limits that keep session ids
// small whatever the client sends. Only the capabilities the gateway acts on are kept (roots, sampling, elicitation,
// tasks); the rest (experimental, vendor extensions) is dropped. Each kept part has a size limit, so that a session
// id never exceeds a fixed length: anything larger is refused (400, naming the limit), never a server error.
import { isRecord } from "../core/_json.ts";

/** The `initialize` parameters of a client, as it sent them. */
export interface SessionInit {
  /** The protocol version the client asked for. */
  protocolVersion: string;
  /** The client's capabilities. */
  capabilities: Record<string, unknown>;
  /** The client's name and version. */
  clientInfo: { name: string; version: string; [key: string]: unknown };
}

/** Client capabilities a session keeps (what the gateway and the SDK server check before sending a request). */
export const KEPT_CAPABILITIES: readonly string[] = ["roots", "sampling", "elicitation", "tasks"];

/** Size limits of the parts of `initialize` a session id carries, in UTF-8 bytes of their JSON. */
export const SESSION_INIT_LIMITS: {
  readonly protocolVersion: number;
  readonly capability: number;
  readonly name: number;
  readonly version: number;
  readonly title: number;
  readonly subject: number;
} = Object.freeze({ protocolVersion: 64, capability: 512, name: 256, version: 64, title: 256, subject: 512 });

const encoder = new TextEncoder();

function bytes(value: unknown): number {
  return encoder.encode(JSON.stringify(value)).byteLength;
}

/**
 * The parameters a session keeps, or a message naming the limit a part exceeds.
 *
 * @returns `{ init }` (a new object; `init` is not changed), or `{ problem }`.
 */
export function compactSessionInit(
  init: SessionInit,
  subject: string | undefined,
): { init: SessionInit } | { problem: string } {
  const limits = SESSION_INIT_LIMITS;
  if (bytes(init.protocolVersion) > limits.protocolVersion) {
    return { problem: `initialize params.protocolVersion exceeds ${limits.protocolVersion} bytes` };
  }
  const capabilities: Record<string, unknown> = {};
  for (const key of KEPT_CAPABILITIES) {
    const value = init.capabilities[key];
    if (value === undefined) continue;
    if (!isRecord(value) || bytes(value) > limits.capability) {
      return {
        problem: `initialize params.capabilities.${key} must be an object of at most ${limits.capability} bytes`,
      };
    }
    capabilities[key] = value;
  }
  const { name, version, title } = init.clientInfo;
  for (const [field, value, limit] of [["name", name, limits.name], ["version", version, limits.version]] as const) {
    if (bytes(value) > limit) return { problem: `initialize params.clientInfo.${field} exceeds ${limit} bytes` };
  }
  const keepTitle = typeof title === "string" && bytes(title) <= limits.title;
  if (subject !== undefined && bytes(subject) > limits.subject) {
    return { problem: `The token's sub claim exceeds ${limits.subject} bytes` };
  }
  return {
    init: {
      protocolVersion: init.protocolVersion,
      capabilities,
      clientInfo: { name, version, ...(keepTitle ? { title } : {}) },
    },
  };
}
