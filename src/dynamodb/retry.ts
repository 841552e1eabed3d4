import { UnavailableError } from '../errors.js';

/**
 * What DynamoDB says may be retried. The SDK already retries throttled and failed requests
 * (standard mode, with backoff); what it does not retry, and we do, is a cancelled transaction whose
 * reasons are all transient (a conflict with another transaction, throttling), a
 * TransactionConflictException, and the unprocessed items of a batch. A failed condition is not an
 * error here: it means another writer came first, and the caller re-reads and tries again.
 */
const TRANSIENT_REASONS = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);
const TRANSIENT_ERRORS = new Set([
  'TransactionConflictException',
  'TransactionInProgressException',
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

interface CancellationError {
  name?: string;
  CancellationReasons?: Array<{ Code?: string } | undefined>;
}

function reasons(error: unknown): string[] {
  const e = error as CancellationError;
  return e?.name === 'TransactionCanceledException' ? (e.CancellationReasons ?? []).map((r) => r?.Code ?? 'None') : [];
}

/** Another writer changed an item this write was conditioned on. */
export function isConditionFailure(error: unknown): boolean {
  return reasons(error).includes('ConditionalCheckFailed') || (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

export function isTransient(error: unknown): boolean {
  const name = (error as { name?: string })?.name ?? '';
  if (TRANSIENT_ERRORS.has(name)) return true;
  const codes = reasons(error).filter((code) => code !== 'None');
  return codes.length > 0 && codes.every((code) => TRANSIENT_REASONS.has(code));
}

/** Full-jitter exponential backoff: a random wait in [0, min(cap, base * 2^attempt)). */
export function backoff(attempt: number, baseMs = 10, capMs = 1_000): Promise<void> {
  const ms = Math.random() * Math.min(capMs, baseMs * 2 ** Math.min(attempt, 16));
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export const MAX_ATTEMPTS = 12;

/** Runs `operation`, retrying transient failures with backoff. */
export async function retrying<T>(what: string, operation: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isTransient(error)) throw error;
      if (attempt + 1 >= MAX_ATTEMPTS) throw new UnavailableError(`${what}: still failing after ${MAX_ATTEMPTS} attempts`, error);
      await backoff(attempt);
    }
  }
}
