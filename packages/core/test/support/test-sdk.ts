import { type DataPoint, type Histogram, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'

/** Collects on demand, like a Prometheus scrape. */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** An OTel SDK for tests: spans in memory, metrics collected on demand. */
export function sdk() {
  const exporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const reader = new TestReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  // A request's span and latency point are recorded at the end of the event loop's turn.
  const endOfTurn = () => new Promise((resolve) => setImmediate(resolve))
  async function points(name: string): Promise<DataPoint<number | Histogram>[]> {
    await endOfTurn()
    // A counter's new series reports 0 at its first collection (a Prometheus
    // scrape, say) and its count from the next: collect once before reading.
    await reader.collect()
    const { resourceMetrics } = await reader.collect()
    return resourceMetrics.scopeMetrics.flatMap((scope) =>
      scope.metrics.filter((m) => m.descriptor.name === name).flatMap((m) => m.dataPoints as DataPoint<number | Histogram>[]),
    )
  }
  const sum = async (name: string, match: Record<string, unknown> = {}) =>
    (await points(name))
      .filter((point) => Object.entries(match).every(([key, value]) => point.attributes[key] === value))
      .reduce((total, point) => total + (typeof point.value === 'number' ? point.value : (point.value.sum ?? 0)), 0)
  return { exporter, tracerProvider, meterProvider, reader, points, sum, spans: async () => (await endOfTurn(), exporter.getFinishedSpans()) }
}

/** The finished spans with this name. */
export const byName = (spans: ReadableSpan[], name: string) => spans.filter((span) => span.name === name)
