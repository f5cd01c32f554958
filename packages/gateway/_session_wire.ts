// Internal: what replicas send each other about client sessions over the registry store's bus (answers and
// cancellations for a session, revocations), and the tags that show which replica sent a server-to-client request:
// `replica~id~mac`, the mac binding the replica, the request id and the session under the cluster's route key, so
// that a client cannot steer an answer to another replica or session.
import { isRecord } from "../core/_json.ts";
import type { JSONRPCMessage } from "../core/_sdk.ts";

/** A JSON-RPC message seen loosely (any field may be missing or of another type). */
export type Message = {
  jsonrpc?: unknown;
  method?: unknown;
  id?: unknown;
  result?: unknown;
  error?: unknown;
  params?: unknown;
};

/** A tagged request id, parsed: the replica that sent it, the base (`<replica>~<n>`) and the tag. */
export interface TaggedId {
  replica: string;
  base: string;
  tag: string;
}

const TAGGED_ID = /^([A-Za-z0-9_-]{1,64})~(\d{1,16})~([A-Za-z0-9_-]{22})$/;

/** Parses a tagged request id (see `SessionBus.tagRequest`), or `undefined` for any other id. */
export function parseTaggedId(id: unknown): TaggedId | undefined {
  if (typeof id !== "string") return undefined;
  const match = TAGGED_ID.exec(id);
  return match ? { replica: match[1]!, base: `${match[1]}~${match[2]}`, tag: match[3]! } : undefined;
}

/** A notice to every replica: a session revoked, or a client's cancellations. */
export interface SessionNotice {
  t: "revoke" | "cancel";
  s: string;
  from: string;
  /** One message (older replicas), or several. */
  m?: JSONRPCMessage;
  ms?: JSONRPCMessage[];
}

const encoder = new TextEncoder();

/** A bus message as a JSON object, or `undefined` when it is not one. */
export function parseEnvelope(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The messages of an envelope: `ms` (a list), or `m` (one). */
export function messagesOf(envelope: Record<string, unknown>): JSONRPCMessage[] {
  if (Array.isArray(envelope.ms)) return envelope.ms.filter(isRecord) as JSONRPCMessage[];
  return isRecord(envelope.m) ? [envelope.m as JSONRPCMessage] : [];
}

/** Whether a message is an answer (result or error) to a request with an id, the only kind forwarded. */
export function isForwardableResponse(message: Message): boolean {
  return message.jsonrpc === "2.0" && message.method === undefined &&
    (typeof message.id === "string" || typeof message.id === "number") &&
    (isRecord(message.result) || isRecord(message.error));
}

/** Tags request ids with the replica that sent them, and checks the tags of client answers. */
export class RequestTags {
  #replicaId: string;
  #keys: () => readonly CryptoKey[];

  /** `keys`: the cluster's route keys, current first (previous ones still verify). */
  constructor(replicaId: string, keys: () => readonly CryptoKey[]) {
    this.#replicaId = replicaId;
    this.#keys = keys;
  }

  /** The id a request of `sessionId` goes out with. */
  async tag(sessionId: string, id: string | number): Promise<string> {
    const base = `${this.#replicaId}~${id}`;
    return `${base}~${await mac(this.#keys()[0]!, sessionId, base)}`;
  }

  /** Whether a tagged id was issued by the replica it names, for this session (any current or previous key). */
  async issued(sessionId: string, tagged: TaggedId): Promise<boolean> {
    for (const key of this.#keys()) {
      if (await mac(key, sessionId, tagged.base) === tagged.tag) return true;
    }
    return false;
  }
}

async function mac(key: CryptoKey, sessionId: string, base: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${sessionId}\n${base}`));
  return new Uint8Array(mac, 0, 16).toBase64({ alphabet: "base64url", omitPadding: true });
}
