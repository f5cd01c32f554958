// Internal: the sessions one subject may hold on one replica, counted with the sessions being opened now, so that
// concurrent `initialize` requests of one subject cannot overrun the quota.
import { ConfigError } from "../core/errors.ts";
import { rpcError } from "./_http_guard.ts";

/** A place held for one session of a subject while it is being opened. */
export interface SessionReservation {
  /** Turns the place into the count of the open session, in one step: the session is never counted twice. */
  open(): void;
  /** Gives the place back (the session did not open); does nothing once opened or released. */
  release(): void;
}

/** Sessions one subject may hold on one replica, by default. */
export const DEFAULT_MAX_SESSIONS_PER_SUBJECT = 100;

/** Per-subject session counts of one replica and their limit. */
export class SubjectQuota {
  /** Sessions open on this replica per subject. */
  #open = new Map<string, number>();
  /** Sessions of a subject being opened now (admitted, not linked yet). */
  #reserved = new Map<string, number>();
  #max: number;
  #onRefused: (limit: number) => void;

  /** `max` defaults to {@link DEFAULT_MAX_SESSIONS_PER_SUBJECT}; `onRefused` is told of every refusal. */
  constructor(max: number | undefined, onRefused: (limit: number) => void) {
    const limit = max ?? DEFAULT_MAX_SESSIONS_PER_SUBJECT;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new ConfigError(`Invalid maxSessionsPerSubject ${limit}: must be an integer >= 1`, {
        field: "maxSessionsPerSubject",
      });
    }
    this.#max = limit;
    this.#onRefused = onRefused;
  }

  /**
   * Whether `subject` may open (or rebuild here) one more session: a 429 answer naming the limit when it may not,
   * else a reservation, so that concurrent `initialize` requests of one subject cannot overrun the quota. The
   * reservation is opened when the session is linked, or released when it fails to open. Sessions without a subject
   * (gateway authentication off) count only against `maxSessions`.
   */
  admit(subject: string | undefined): Response | SessionReservation {
    if (subject === undefined) return { open() {}, release() {} };
    const held = (this.#open.get(subject) ?? 0) + (this.#reserved.get(subject) ?? 0);
    if (held >= this.#max) {
      this.#onRefused(this.#max);
      return rpcError(
        429,
        -32000,
        `Too many sessions for this subject (limit ${this.#max} per subject); close one (DELETE) or wait`,
        { "retry-after": "5" },
      );
    }
    this.#reserved.set(subject, (this.#reserved.get(subject) ?? 0) + 1);
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      const left = (this.#reserved.get(subject) ?? 1) - 1;
      if (left > 0) this.#reserved.set(subject, left);
      else this.#reserved.delete(subject);
      return true;
    };
    return {
      open: () => {
        if (settle()) this.count(subject, 1);
      },
      release: () => void settle(),
    };
  }

  /** Counts a session of `subject` opened (1) or closed (-1) on this replica. */
  count(subject: string | undefined, delta: 1 | -1): void {
    if (subject === undefined) return;
    const next = (this.#open.get(subject) ?? 0) + delta;
    if (next > 0) this.#open.set(subject, next);
    else this.#open.delete(subject);
  }
}
