// Internal: the path a request is routed on. Parsing `request.url` is ~7 µs a request, and clients send few distinct
// URLs (the MCP endpoint's, under one or two spellings of the host): each is parsed once and remembered, without its
// query or fragment (the pathname ends before them; what a query may carry is not kept). The memo is bounded in count
// and in length, and starts over when full, so a flood of varied URLs can neither grow it nor keep the clients' out
// for good (theirs are parsed again, nothing more).

/** How many URLs are remembered, and the longest remembered. */
const URLS_KEPT = 64;
const URL_KEPT_CHARS = 512;

/** The pathnames of request URLs, parsed once per distinct URL (up to its query). */
export class Pathnames {
  #memo = new Map<string, string | undefined>();

  /** How many URLs are remembered. */
  get size(): number {
    return this.#memo.size;
  }

  /** The pathname of `request`'s URL, or `undefined` when it does not parse (a malformed `Host` can cause that). */
  of(request: Pick<Request, "url">): string | undefined {
    const url = request.url;
    const end = url.search(/[?#]/);
    const key = end === -1 ? url : url.slice(0, end);
    if (this.#memo.has(key)) return this.#memo.get(key);
    const pathname = URL.parse(key)?.pathname;
    if (key.length <= URL_KEPT_CHARS) {
      if (this.#memo.size >= URLS_KEPT) this.#memo.clear();
      this.#memo.set(key, pathname);
    }
    return pathname;
  }
}
