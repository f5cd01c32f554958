// Internal: a catalog's options resolved into a plan, with their defaults, and refused when invalid.
import type { PrefixMode } from "../_naming.ts";
import type { CatalogOptions } from "./types.ts";

/** How many members' list requests a catalog has in flight at once, by default. */
export const DEFAULT_LIST_CONCURRENCY = 64;

/** Every option of a catalog, defaults applied. */
export interface CatalogPlan {
  prefix: PrefixMode;
  resourcePrefix: PrefixMode;
  listTimeout: number;
  retryAfter: number;
  listConcurrency: number;
  now: () => number;
}

/**
 * Applies the defaults; throws `RangeError` for an unknown prefix mode, a negative or non-finite timeout, or a
 * `listConcurrency` below 1.
 */
export function resolveCatalogOptions(options: CatalogOptions): CatalogPlan {
  const prefix: PrefixMode = options.prefix ?? "always";
  const resourcePrefix: PrefixMode = options.resourcePrefix ?? "on-collision";
  for (const [name, mode] of [["prefix", prefix], ["resourcePrefix", resourcePrefix]] as const) {
    if (mode !== "always" && mode !== "on-collision") {
      throw new RangeError(`Invalid ${name} ${JSON.stringify(mode)}: use "always" or "on-collision"`);
    }
  }
  const listTimeout = options.listTimeout ?? 5_000;
  const retryAfter = options.retryAfter ?? 5_000;
  for (const [name, value] of [["listTimeout", listTimeout], ["retryAfter", retryAfter]] as const) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`Invalid ${name} ${value}: must be ms >= 0`);
  }
  const listConcurrency = options.listConcurrency ?? DEFAULT_LIST_CONCURRENCY;
  if (!Number.isSafeInteger(listConcurrency) || listConcurrency < 1) {
    throw new RangeError(`Invalid listConcurrency ${listConcurrency}: must be an integer >= 1`);
  }
  return {
    prefix,
    resourcePrefix,
    listTimeout,
    retryAfter,
    listConcurrency,
    now: options.now ?? (() => performance.now()),
  };
}
