// Metrics that exist to be graphed: a counter that ticks periodically and a sine wave.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface DemoMetricsOptions {
  /** How often target_ticks_total increases. */
  tickIntervalMs: number;
  /** Period of target_sine_wave. */
  sinePeriodMs: number;
}

export const DEFAULT_DEMO_METRICS: DemoMetricsOptions = { tickIntervalMs: 1000, sinePeriodMs: 60_000 };

/** sin(2πt/period) of wall-clock time, so every replica draws the same wave in phase. */
export function sineAt(epochMs: number, periodMs: number): number {
  return Math.sin((2 * Math.PI * (epochMs % periodMs)) / periodMs);
}

/** Registers the demo metrics and starts the tick timer; the returned function stops it. */
export function registerDemoMetrics(registry: Registry, options: DemoMetricsOptions = DEFAULT_DEMO_METRICS, now: () => number = Date.now): () => void {
  const ticks = new Counter({
    name: 'target_ticks_total',
    help: `Ticks of a timer firing every ${options.tickIntervalMs} ms`,
    registers: [registry],
  });
  new Gauge({
    name: 'target_sine_wave',
    help: `Sine wave with a period of ${options.sinePeriodMs} ms, computed at scrape time`,
    registers: [registry],
    collect() {
      this.set(sineAt(now(), options.sinePeriodMs));
    },
  });
  const timer = setInterval(() => ticks.inc(), options.tickIntervalMs);
  // The timer alone must not keep the process alive once the server has closed.
  timer.unref();
  return () => clearInterval(timer);
}
