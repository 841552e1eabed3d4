/**
 * The one retry loop and the one backoff formula of every backend: SQLite's busy database (both
 * drivers), libSQL's transport failures, and DynamoDB's transient errors, unprocessed batch items
 * and optimistic-concurrency conflicts. Each caller says what is retryable and how long to keep
 * trying; the waiting is the same everywhere.
 */

/** Exponential backoff with full jitter. */
export interface Backoff {
  /** The wait after the first failure is drawn from [0, baseMs); it doubles with each further one. */
  readonly baseMs: number;
  /** The range a wait is drawn from never exceeds this. */
  readonly capMs: number;
}

/**
 * The wait after the `failure`-th failure (1-based): random in [0, min(cap, base × 2^(failure−1))).
 * Full jitter, so processes retrying against the same database do not collide in step.
 */
export function backoffMs(failure: number, backoff: Backoff): number {
  return Math.random() * Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.min(Math.max(failure - 1, 0), 30));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread: for synchronous callers (better-sqlite3) that must not yield. */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

export interface RetryOptions extends Backoff {
  /** Whether a failure may be tried again; anything else is given up at once. */
  retryable(error: unknown): boolean;
  /** Tries in all, the first included; default unlimited (then give a deadline). */
  attempts?: number;
  /** No retry starts once this many ms have passed since the first try began. */
  deadlineMs?: number;
  /**
   * Called on every retryable failure, before deciding whether to retry: e.g. dropping connections a
   * failure poisoned, which must happen even when the failure is the last one.
   */
  onFailure?(error: unknown): Promise<void> | void;
  /** What to throw when giving up, given the failure and how many tries were made; default the failure. */
  giveUp?(error: unknown, attempts: number): unknown;
}

/** Runs `operation` until it succeeds, fails with something not retryable, or runs out of tries or time. */
export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const deadline = options.deadlineMs === undefined ? Infinity : Date.now() + options.deadlineMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const retryable = options.retryable(error);
      if (retryable) await options.onFailure?.(error);
      if (!retryable || exhausted(options, attempt, deadline)) throw options.giveUp ? options.giveUp(error, attempt) : error;
      await sleep(backoffMs(attempt, options));
    }
  }
}

/** `retry` for synchronous operations, waiting with the thread blocked (no `onFailure`). */
export function retrySync<T>(operation: (attempt: number) => T, options: Omit<RetryOptions, 'onFailure'>): T {
  const deadline = options.deadlineMs === undefined ? Infinity : Date.now() + options.deadlineMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return operation(attempt);
    } catch (error) {
      if (!options.retryable(error) || exhausted(options, attempt, deadline)) throw options.giveUp ? options.giveUp(error, attempt) : error;
      sleepSync(backoffMs(attempt, options));
    }
  }
}

function exhausted(options: RetryOptions | Omit<RetryOptions, 'onFailure'>, attempt: number, deadline: number): boolean {
  return (options.attempts !== undefined && attempt >= options.attempts) || Date.now() >= deadline;
}
