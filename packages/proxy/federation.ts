/**
 * The usage guide's import path for {@link FederationProxy}
 * (`import { FederationProxy } from "../packages/proxy/federation.ts"`).
 *
 * @example
 * ```ts
 * import { FederationProxy } from "./federation.ts";
 *
 * await using proxy = new FederationProxy("a-secret-of-at-least-thirty-two-bytes!!");
 * console.log(proxy.getConnectedServers()); // []
 * ```
 * @module
 */

export { FederationProxy, type RegisterOptions } from "./federation_proxy.ts";
