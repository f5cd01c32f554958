// Internal: the text of a failure for log lines and messages: an Error's message, anything else as a string.

/** The message of `error` (an `Error`'s `message`, else `String(error)`). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
