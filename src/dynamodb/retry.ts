import { retry, type Backoff } from '../core/retry.js';
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

/** Waits between tries of a transient failure: from [0, 10 ms), doubling up to 1 s. */
export const TRANSIENT_BACKOFF: Backoff = { baseMs: 10, capMs: 1_000 };

export const MAX_ATTEMPTS = 12;

/** Runs `operation`, retrying transient failures with backoff. */
export function retrying<T>(what: string, operation: () => Promise<T>): Promise<T> {
  return retry(operation, {
    ...TRANSIENT_BACKOFF,
    attempts: MAX_ATTEMPTS,
    retryable: isTransient,
    giveUp: (error, attempts) => (isTransient(error) ? new UnavailableError(`${what}: still failing after ${attempts} attempts`, error) : error),
  });
}
