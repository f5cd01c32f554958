// Internal: AES-256-GCM keys derived from the deployment's shared key with HKDF-SHA256, one per purpose, so that
// a sealed member secret can never be presented as a session id or the other way round.
import { ConfigError } from "../core/errors.ts";
import { MIN_SECRET_BYTES } from "../core/config.ts";

/** A shared key as given by a user: text or bytes, at least 32 bytes. */
export type SharedKey = string | Uint8Array;

const encoder = new TextEncoder();

function bytesOf(key: SharedKey, field: string): Uint8Array<ArrayBuffer> {
  const bytes = typeof key === "string" ? encoder.encode(key) : new Uint8Array(key);
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    throw new ConfigError(`Invalid ${field}: at least ${MIN_SECRET_BYTES} bytes required`, { field });
  }
  return bytes;
}

/** Derives the AES-GCM key of one purpose (e.g. `"session-id/v1"`) from a shared key. */
export async function deriveAesKey(key: SharedKey, purpose: string, field: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", bytesOf(key, field), "HKDF", false, ["deriveKey"]);
  return await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: encoder.encode("federated-mcp"), info: encoder.encode(purpose) },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** Derives the HMAC-SHA256 key of one purpose (e.g. `"answer-route/v1"`) from a shared key. */
export async function deriveHmacKey(key: SharedKey, purpose: string, field: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", bytesOf(key, field), "HKDF", false, ["deriveKey"]);
  return await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: encoder.encode("federated-mcp"), info: encoder.encode(purpose) },
    material,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

/** `iv || ciphertext+tag` of `plaintext` under `key`, bound to `context` (AES-GCM additional data). */
export async function seal(key: CryptoKey, plaintext: Uint8Array<ArrayBuffer>, context: string): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(context) }, key, plaintext),
  );
  const out = new Uint8Array(iv.byteLength + sealed.byteLength);
  out.set(iv);
  out.set(sealed, iv.byteLength);
  return out;
}

/** The plaintext of a {@link seal} output, or `undefined` when it was altered, forged or sealed for another context. */
export async function unseal(
  keys: readonly CryptoKey[],
  box: Uint8Array,
  context: string,
): Promise<Uint8Array | undefined> {
  if (box.byteLength < 12 + 16) return undefined;
  const iv = box.slice(0, 12);
  const data = box.slice(12);
  for (const key of keys) {
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(context) }, key, data),
      );
    } catch {
      // not this key
    }
  }
  return undefined;
}
