// Internal: the counters of shared sessions and their Prometheus lines (through the one writer).
import { PrometheusWriter } from "../core/_prometheus.ts";

/** Counters for `/metrics`. */
export interface SharedSessionCounters {
  restored: number;
  forwarded: number;
  streamed: number;
  revoked: number;
  /** Sessions refused because their subject held its most sessions. */
  quotaRefused: number;
  /** Client answers dropped because no replica sent the request they answer (forged or foreign tag). */
  refused: number;
  /** Progress notifications replaced by a later one before a slow client read them. */
  coalesced: number;
  /** Streams ended because their client read nothing while messages piled up. */
  overruns: number;
  /** SSE events stored for resumption. */
  eventsStored: number;
  /** Events of POSTs answered with plain JSON: held back, never stored. */
  eventsSkipped: number;
  /** `tools/call`s answered without the SDK's server machinery (`_modern_plain_call.ts`, `_legacy_plain_call.ts`). */
  plainCalls: number;
}

/** Prometheus lines of the shared-session counters. */
export function sessionMetricLines(counters: SharedSessionCounters): string[] {
  const c = counters;
  return new PrometheusWriter()
    .counter("federation_sessions_restored_total", "Client sessions rebuilt on this replica from their session id.", [
      [undefined, c.restored],
    ])
    .counter(
      "federation_sessions_forwarded_total",
      "Client answers forwarded to the replica that sent the request.",
      [[undefined, c.forwarded]],
    )
    .counter(
      "federation_sessions_streamed_total",
      "Messages handed to the replica holding a client's GET stream.",
      [[undefined, c.streamed]],
    )
    .counter("federation_sessions_revoked_total", "Client sessions ended by DELETE on this replica.", [
      [undefined, c.revoked],
    ])
    .counter(
      "federation_sessions_quota_refused_total",
      "Sessions refused because their subject held its most sessions.",
      [[undefined, c.quotaRefused]],
    )
    .counter(
      "federation_sessions_answers_refused_total",
      "Client answers dropped: no replica sent their request.",
      [[undefined, c.refused]],
    )
    .counter(
      "federation_stream_progress_coalesced_total",
      "Progress notifications replaced before a slow client read them.",
      [[undefined, c.coalesced]],
    )
    .counter("federation_stream_overruns_total", "SSE streams ended because their client did not read them.", [
      [undefined, c.overruns],
    ])
    .counter("federation_stream_events_stored_total", "SSE events stored so that their stream can be resumed.", [
      [undefined, c.eventsStored],
    ])
    .counter(
      "federation_stream_events_skipped_total",
      "Events of POSTs answered with plain JSON (not resumable): never stored.",
      [[undefined, c.eventsSkipped]],
    )
    .counter(
      "federation_gateway_plain_calls_total",
      "tool calls answered without the SDK's server machinery (2026-07-28: no per-request server; 2025-11-25: no session transport).",
      [[undefined, c.plainCalls]],
    )
    .lines();
}
