// Internal: the data channel's POSTs whose answer is still coming, by the id of their request. A cancelled request's
// response is aborted when its `notifications/cancelled` goes out: on 2026-07-28 a member cancels a request when its
// response stream closes (a stateless member cannot tie the notification to the request), and on 2025-11-25 the
// notification has already said it, so no answer is wanted any more.
import { isNotification } from "../core/_jsonrpc.ts";
import { isRecord } from "../core/_json.ts";
import type { RequestId } from "../core/_sdk.ts";

/** One open POST. */
export interface OpenPost {
  /** Aborted when the request is cancelled. */
  signal: AbortSignal;
  /** The response, forgetting the POST once its body has ended (or at once when it has none). */
  settle: (response: Response) => Response;
  /** Forgets the POST (it failed). */
  fail: () => void;
}

/** Open POSTs of one channel. */
export class OpenPosts {
  #open = new Map<RequestId, AbortController>();

  /** Aborts the POST of the request a `notifications/cancelled` body names (anything else is ignored). */
  cancelNamedIn(body: unknown): void {
    if (typeof body !== "string" || !body.includes("notifications/cancelled")) return;
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch {
      return;
    }
    if (!isNotification(message) || message.method !== "notifications/cancelled") return;
    const id = isRecord(message.params) ? message.params.requestId : undefined;
    if (typeof id !== "string" && typeof id !== "number") return;
    this.#open.get(id)?.abort(new DOMException("Request cancelled", "AbortError"));
    this.#open.delete(id);
  }

  /** Registers the POST of request `id`. */
  open(id: RequestId): OpenPost {
    const controller = new AbortController();
    this.#open.set(id, controller);
    const forget = () => {
      if (this.#open.get(id) === controller) this.#open.delete(id);
    };
    return {
      signal: controller.signal,
      fail: forget,
      settle: (response) => {
        if (!response.body) {
          forget();
          return response;
        }
        const reader = response.body.getReader();
        const body = new ReadableStream<Uint8Array>({
          async pull(sink) {
            try {
              const { done, value } = await reader.read();
              if (done) {
                forget();
                sink.close();
              } else sink.enqueue(value);
            } catch (error) {
              forget();
              sink.error(error);
            }
          },
          async cancel(reason) {
            forget();
            await reader.cancel(reason).catch(() => {});
          },
        });
        return new Response(body, {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
        });
      },
    };
  }

  /** POSTs open now (for tests). */
  get size(): number {
    return this.#open.size;
  }
}
