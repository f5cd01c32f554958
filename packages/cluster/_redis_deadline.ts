// Internal: the deadline on every Redis call of the registry store (the client has no offline queue, and a command
// to a Redis that does not answer must fail, not hang).
import { ConnectionError } from "../core/errors.ts";
import { errorMessage } from "../core/_error_message.ts";

/**
 * `work`, or a `ConnectionError` naming `what` when it fails or does not settle within `timeoutMs` (a late result
 * is ignored).
 */
export async function deadline<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${timeoutMs} ms (timeout)`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([work, late]);
  } catch (error) {
    work.catch(() => {});
    throw new ConnectionError(`Registry store: ${what} failed: ${errorMessage(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
