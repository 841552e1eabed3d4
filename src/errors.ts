/**
 * The one family of errors convostore throws. Every error carries a stable `code` so callers can
 * branch without `instanceof` across package copies; drivers' errors travel as `cause`.
 */
export type ErrorCode =
  | 'VALIDATION'
  | 'CONSECUTIVE_ROLE'
  | 'TOO_LARGE'
  | 'CLOSED'
  | 'UNAVAILABLE'
  | 'UNAUTHORIZED'
  | 'NOT_MIGRATED'
  | 'CONFLICT'
  | 'NOT_FOUND'
  | 'MISSING_DRIVER';

export class ConvostoreError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad input: an id, role, content, option, cursor. Nothing was written. */
export class ValidationError extends ConvostoreError {
  /** The argument or field at fault, e.g. `userId` or `message.content[2].image`. */
  readonly field: string;

  constructor(field: string, message: string, code: 'VALIDATION' | 'CONSECUTIVE_ROLE' = 'VALIDATION') {
    super(code, `${field}: ${message}`);
    this.field = field;
  }
}

/** Thrown only under `consecutiveRoles: 'throw'`; the default ('skip') never throws it. */
export class ConsecutiveRoleError extends ValidationError {
  constructor(role: string) {
    super('message.role', `two consecutive '${role}' messages in one conversation`, 'CONSECUTIVE_ROLE');
  }
}

/**
 * What is stored disagrees with the write: a message id already held with other content or role or
 * by another agent, `expectLastIds` that no longer match, a fork onto an existing session. Nothing
 * of the call was written; re-read and decide.
 */
export class ConflictError extends ConvostoreError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

/** A message or session the call names does not exist (a read of one answers `null` instead). */
export class NotFoundError extends ConvostoreError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** A message whose serialised content exceeds the backend's limit. Nothing of it was written. */
export class TooLargeError extends ConvostoreError {
  readonly size: number;
  readonly limit: number;

  constructor(size: number, limit: number, backend: string) {
    super(
      'TOO_LARGE',
      `message content and metadata are ${size} bytes as JSON; the ${backend} backend accepts at most ${limit} bytes per message`,
    );
    this.size = size;
    this.limit = limit;
  }
}

export class ClosedError extends ConvostoreError {
  constructor() {
    super('CLOSED', 'the store is closed');
  }
}

/** The backend could not be reached or failed; the driver's error is the `cause`. */
export class UnavailableError extends ConvostoreError {
  constructor(message: string, cause?: unknown) {
    super('UNAVAILABLE', cause instanceof Error ? `${message}: ${cause.message}` : message, { cause });
  }
}

/**
 * A remote database refused the credentials (HTTP 401/403): a missing, wrong or expired auth token.
 * Distinct from UNAVAILABLE because waiting and retrying will not help; the driver's error is the `cause`.
 */
export class UnauthorizedError extends ConvostoreError {
  constructor(message: string, cause?: unknown) {
    super('UNAUTHORIZED', cause instanceof Error ? `${message}: ${cause.message}` : message, { cause });
  }
}

/** A remote database that lacks convostore's tables or their latest migration. */
export class NotMigratedError extends ConvostoreError {
  constructor(detail: string) {
    super('NOT_MIGRATED', `${detail}; run \`npx drizzle-kit migrate\` (or \`convostore migrate\`) against it first`);
  }
}

/**
 * The backend a URL names needs a driver package that is not installed (drivers are optional peer
 * dependencies: an app installs only the one it uses). `command` is what to run.
 */
export class MissingDriverError extends ConvostoreError {
  /** The packages to install, e.g. `['better-sqlite3']`. */
  readonly packages: readonly string[];
  /** e.g. `npm install better-sqlite3`. */
  readonly command: string;

  constructor(backend: string, packages: readonly string[], cause?: unknown) {
    const command = `npm install ${packages.join(' ')}`;
    super('MISSING_DRIVER', `the ${backend} backend needs ${packages.join(' and ')}, which is not installed; run \`${command}\``, { cause });
    this.packages = packages;
    this.command = command;
  }
}
