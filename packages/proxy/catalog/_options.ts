// Internal: a catalog's options resolved into a plan, with their defaults, and refused when invalid.
import type { PrefixMode } from "../_naming.ts";
import type { CatalogOptions } from "./types.ts";

/** Every option of a catalog, defaults applied. */
export interface CatalogPlan {
  prefix: PrefixMode;
  listTimeout: number;
  retryAfter: number;
  now: () => number;
}

/** Applies the defaults; throws `RangeError` for an unknown prefix mode or a negative or non-finite timeout. */
export function resolveCatalogOptions(options: CatalogOptions): CatalogPlan {
  const prefix: PrefixMode = options.prefix ?? "always";
  if (prefix !== "always" && prefix !== "on-collision") {
    throw new RangeError(`Invalid prefix ${JSON.stringify(prefix)}: use "always" or "on-collision"`);
  }
  const listTimeout = options.listTimeout ?? 5_000;
  const retryAfter = options.retryAfter ?? 5_000;
  for (const [name, value] of [["listTimeout", listTimeout], ["retryAfter", retryAfter]] as const) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`Invalid ${name} ${value}: must be ms >= 0`);
  }
  return { prefix, listTimeout, retryAfter, now: options.now ?? (() => performance.now()) };
}
