// Internal: the path a request is routed on. Parsing `request.url` is ~7 µs a request, and clients send few distinct
// URLs (the MCP endpoint's, under one or two spellings of the host): each is parsed once and remembered. The memo is
// bounded in count and in URL length, and only what fits is added, so a flood of varied URLs can neither grow it nor
// evict the clients' (theirs are parsed again, nothing more).

/** How many URLs are remembered, and the longest remembered. */
const URLS_KEPT = 64;
const URL_KEPT_CHARS = 512;

const pathnames = new Map<string, string | undefined>();

/** The pathname of `request`'s URL, or `undefined` when the URL does not parse (a malformed `Host` can cause that). */
export function requestPathname(request: Pick<Request, "url">): string | undefined {
  const url = request.url;
  if (pathnames.has(url)) return pathnames.get(url);
  const pathname = URL.parse(url)?.pathname;
  if (pathnames.size < URLS_KEPT && url.length <= URL_KEPT_CHARS) pathnames.set(url, pathname);
  return pathname;
}
