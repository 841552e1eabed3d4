/**
 * Timing on a noisy machine: the store and its baseline are measured in alternating rounds (the
 * order flips each round), so a load spike hits both sides instead of one. Each round gives each task
 * a median latency; we report the median over rounds, and the ratio as the median of the rounds'
 * ratios.
 */
import { Bench } from 'tinybench';

export const QUICK = process.env.BENCH_QUICK === '1';
export const TIME_MS = QUICK ? 300 : 1_500;
export const ROUNDS = QUICK ? 3 : 5;

export interface MeasureOptions {
  /** Total time budget per task, split over the rounds. */
  time?: number;
  /** Minimum iterations per task per round. */
  iterations?: number;
  rounds?: number;
  warmupIterations?: number;
  /** Default true; false for one-shot measurements that must see a fresh state. */
  warmup?: boolean;
}

export interface Measured {
  /** Median latency (ms) per task. */
  latency: Record<string, number>;
  /** Median over rounds of `store` latency / `baseline` latency (when both are measured). */
  ratio: number;
  /**
   * Per other task: the median over rounds of its latency / the store's, i.e. the store's throughput
   * as a fraction of that task's (1.0 = as fast; the targets are stated this way).
   */
  throughput: Record<string, number>;
}

export async function measure(tasks: Record<string, () => Promise<unknown>>, options: MeasureOptions = {}): Promise<Measured> {
  const rounds = options.rounds ?? ROUNDS;
  const perRound: Record<string, number[]> = {};
  const ratios: number[] = [];
  const throughputs: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    const bench = new Bench({
      time: (options.time ?? TIME_MS) / rounds,
      iterations: options.iterations ?? 10,
      warmup: options.warmup ?? true,
      warmupIterations: options.warmupIterations ?? 16,
      warmupTime: r === 0 ? 250 : 50,
    });
    const entries = Object.entries(tasks);
    for (const [name, fn] of r % 2 === 0 ? entries : entries.reverse()) bench.add(name, fn);
    await bench.run();
    const round: Record<string, number> = {};
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state} ${'error' in result ? String(result.error) : ''}`);
      round[task.name] = result.latency.p50;
      (perRound[task.name] ??= []).push(result.latency.p50);
    }
    if (round.store !== undefined && round.baseline !== undefined) ratios.push(round.store / round.baseline);
    for (const [name, value] of Object.entries(round)) {
      if (name !== 'store' && round.store !== undefined) (throughputs[name] ??= []).push(value / round.store);
    }
  }
  const latency: Record<string, number> = {};
  for (const [name, values] of Object.entries(perRound)) latency[name] = median(values);
  const throughput: Record<string, number> = {};
  for (const [name, values] of Object.entries(throughputs)) throughput[name] = median(values);
  return { latency, ratio: ratios.length ? median(ratios) : NaN, throughput };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const round2 = (x: number) => Math.round(x * 100) / 100;

/** The same message text in every workload and on every side. */
export const message = (i: number) => ({
  role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
  content: [{ text: `message ${i} ${'lorem ipsum '.repeat(8)}` }],
});
export const content = (i: number) => JSON.stringify(message(i).content);
