/**
 * {@link SecretBox}: seals member secrets (AES-256-GCM under a key derived from the deployment's shared key) so
 * that the registry store never holds them in clear. A sealed secret is bound to its member's serverId: it cannot
 * be moved to another member.
 *
 * @example Seal and open a member's secret
 * ```ts
 * import { SecretBox } from "@federated-mcp/federation/cluster";
 *
 * const box = await SecretBox.create("a-shared-key-of-at-least-thirty-two-bytes");
 * const sealed = await box.seal("member-secret-of-at-least-thirty-two-bytes", "docs");
 * console.log(sealed.startsWith("v1.")); // true
 * console.log(await box.open(sealed, "docs")); // member-secret-of-at-least-thirty-two-bytes
 * ```
 * @module
 */

import { ConfigError } from "../core/errors.ts";
import { deriveAesKey, seal, type SharedKey, unseal } from "./_keys.ts";

const PURPOSE = "member-secret/v1";
const PREFIX = "v1.";

/** Options of {@link SecretBox.create}. */
export interface SecretBoxOptions {
  /** Keys used before the current one: secrets sealed with them still open (key rotation). @default {[]} */
  previousKeys?: readonly SharedKey[] | undefined;
}

/**
 * Seals and opens member secrets with the deployment's shared key.
 *
 * @example
 * ```ts
 * import { SecretBox } from "@federated-mcp/federation/cluster";
 *
 * const box = await SecretBox.create("a-shared-key-of-at-least-thirty-two-bytes");
 * await box.open("v1.AAAA", "docs").catch((error) => console.log(error.code)); // ERR_CONFIG_INVALID
 * ```
 */
export class SecretBox {
  #keys: CryptoKey[];

  private constructor(keys: CryptoKey[]) {
    this.#keys = keys;
  }

  /**
   * Derives the box's keys.
   *
   * @param key The shared key every replica has (at least 32 bytes).
   * @param options `previousKeys`.
   * @returns The box.
   * @throws {ConfigError} When a key is shorter than 32 bytes.
   */
  static async create(key: SharedKey, options: SecretBoxOptions = {}): Promise<SecretBox> {
    const keys = await Promise.all(
      [key, ...options.previousKeys ?? []].map((k) => deriveAesKey(k, PURPOSE, "key")),
    );
    return new SecretBox(keys);
  }

  /**
   * Seals a member's secret.
   *
   * @param secret The secret.
   * @param serverId The member it belongs to.
   * @returns `v1.` and the base64url of the IV and ciphertext.
   */
  async seal(secret: string, serverId: string): Promise<string> {
    const sealed = await seal(this.#keys[0]!, new TextEncoder().encode(secret), serverId);
    return PREFIX + sealed.toBase64({ alphabet: "base64url", omitPadding: true });
  }

  /**
   * Opens a sealed secret.
   *
   * @param sealed What {@link SecretBox.seal} returned.
   * @param serverId The member it must belong to.
   * @returns The secret.
   * @throws {ConfigError} (`field` `auth.config.sealedSecret`) When it was altered, belongs to another member, or
   *   was sealed with a key this box does not have.
   */
  async open(sealed: string, serverId: string): Promise<string> {
    let bytes: Uint8Array | undefined;
    if (sealed.startsWith(PREFIX)) {
      try {
        bytes = Uint8Array.fromBase64(sealed.slice(PREFIX.length), { alphabet: "base64url" });
      } catch {
        bytes = undefined;
      }
    }
    const plain = bytes && await unseal(this.#keys, bytes, serverId);
    if (!plain) {
      throw new ConfigError(
        `Invalid auth.config.sealedSecret of server '${serverId}': cannot be opened with the store key`,
        { field: "auth.config.sealedSecret", serverId },
      );
    }
    return new TextDecoder().decode(plain);
  }
}
