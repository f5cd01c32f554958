// Internal: the one way the library shows a URL it did not build itself (member endpoints, store URLs) in a
// message, a log line, a CLI line or an API answer. Credentials ride in URLs in many shapes (`?api-key=`, `sig`,
// `signature`, `X-Amz-Signature`, `client_secret`, a password in the userinfo), and no list of names is complete:
// so the password and every query value are replaced, whatever their names, and the fragment too.

/** What replaces each hidden part. */
export const REDACTED = "***";

/**
 * `url` without its secrets: the userinfo password, every query value and the fragment become `***`; the scheme,
 * user name, host, port, path and query names stay, so the line still says which endpoint it is about.
 * A string that is not a URL is not shown at all.
 */
export function redactUrl(url: string | URL): string {
  const text = String(url);
  if (!URL.canParse(text)) return "(invalid URL)";
  const parsed = new URL(text);
  if (parsed.password) parsed.password = REDACTED;
  if (parsed.search.length > 1) {
    const pairs = parsed.search.slice(1).split("&").map((pair) => {
      const equals = pair.indexOf("=");
      return equals < 0 ? pair : `${pair.slice(0, equals)}=${REDACTED}`;
    });
    parsed.search = `?${pairs.join("&")}`;
  }
  if (parsed.hash.length > 1) parsed.hash = REDACTED;
  return parsed.href;
}

/** Every absolute URL inside `text` (such as an error message from `fetch`) redacted with {@link redactUrl}. */
export function redactUrls(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s<>"'`()]+/gi, (url) => {
    // A trailing sentence mark belongs to the text, not the URL.
    const tail = /[.,;:!?]+$/.exec(url)?.[0] ?? "";
    const bare = url.slice(0, url.length - tail.length);
    return URL.canParse(bare) ? redactUrl(bare) + tail : url;
  });
}
