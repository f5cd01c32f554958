// Internal: whether a string fits a byte limit once encoded as UTF-8, without encoding it when its length decides.

const encoder = new TextEncoder();

/** Whether `text` takes more than `maxBytes` bytes in UTF-8 (a UTF-16 unit is 1 to 3 bytes). */
export function exceedsBytes(text: string, maxBytes: number): boolean {
  if (text.length * 3 <= maxBytes) return false;
  if (text.length > maxBytes) return true;
  return encoder.encode(text).byteLength > maxBytes;
}
