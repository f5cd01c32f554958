// Internal: the one Prometheus text writer (exposition format 0.0.4) of the library. Every place that reports
// metrics (the gateway's request metrics, the cluster runtime, shared sessions) writes its families through it, so
// escaping, HELP/TYPE lines and label order are decided here once.

/** Label names and values of one sample. */
export type MetricLabels = Readonly<Record<string, string>>;

/** The content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatLabels(labels: MetricLabels | undefined): string {
  if (labels === undefined) return "";
  const pairs = Object.entries(labels);
  if (pairs.length === 0) return "";
  return `{${pairs.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(",")}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Writes metric families in the Prometheus text format; {@link PrometheusWriter.text} returns the document. */
export class PrometheusWriter {
  #lines: string[] = [];

  /** Starts a family: its `# HELP` and `# TYPE` lines. */
  family(name: string, type: "gauge" | "counter" | "histogram", help: string): this {
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    return this;
  }

  /** One sample of the current family (or of its `_bucket`/`_sum`/`_count` series). */
  sample(name: string, value: number, labels?: MetricLabels): this {
    this.#lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    return this;
  }

  /** A gauge family with its samples. */
  gauge(name: string, help: string, samples: Iterable<[MetricLabels | undefined, number]>): this {
    this.family(name, "gauge", help);
    for (const [labels, value] of samples) this.sample(name, value, labels);
    return this;
  }

  /** A counter family with its samples. */
  counter(name: string, help: string, samples: Iterable<[MetricLabels | undefined, number]>): this {
    this.family(name, "counter", help);
    for (const [labels, value] of samples) this.sample(name, value, labels);
    return this;
  }

  /** The samples of one histogram series: cumulative `counts` per bucket bound, then `+Inf`, sum and count. */
  histogram(
    name: string,
    series: { labels: MetricLabels; buckets: readonly number[]; counts: readonly number[]; sum: number; count: number },
  ): this {
    const { labels, buckets, counts, sum, count } = series;
    buckets.forEach((le, i) => this.sample(`${name}_bucket`, counts[i] ?? 0, { ...labels, le: String(le) }));
    this.sample(`${name}_bucket`, count, { ...labels, le: "+Inf" });
    this.sample(`${name}_sum`, sum, labels);
    this.sample(`${name}_count`, count, labels);
    return this;
  }

  /** The lines written so far (no trailing newline). */
  lines(): string[] {
    return [...this.#lines];
  }

  /** The document: every line, newline-terminated. */
  text(): string {
    return this.#lines.length === 0 ? "" : this.#lines.join("\n") + "\n";
  }
}
