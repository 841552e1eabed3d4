import type fc from 'fast-check';
/**
 * One seed per test process for everything random in the reliability tests: fast-check properties and
 * the crash test's kill times. Random by default so CI keeps exploring; FC_SEED=<n> replays a failure
 * (every failing test prints the seed it ran with). FC_RUNS scales the property run counts.
 */
export const seed: number = process.env.FC_SEED ? Number(process.env.FC_SEED) : (Date.now() ^ (process.pid << 8)) >>> 0;

if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${process.env.FC_SEED}`);

export function runs(base: number): number {
  const scale = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 1;
  return Math.max(1, Math.round(base * scale));
}

/** fast-check parameters for a property: the shared seed, a bounded run count. */
export function fcParams(numRuns: number): fc.Parameters<unknown> {
  return { seed, numRuns: runs(numRuns), includeErrorInReport: true };
}

/** mulberry32: a small seeded PRNG for the crash test's kill times (fast-check drives the properties). */
export function prng(from: number): () => number {
  let a = from >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const replayHint = `seed ${seed} (replay with FC_SEED=${seed})`;
