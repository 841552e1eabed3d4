export { ChatStore } from './core/store.js';
export type { StorageBackend } from './core/backend.js';
export { MAX_ID_LENGTH, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE } from './core/validate.js';
export { InMemoryChatStorage, type InMemoryOptions } from './memory/index.js';
// The root entry loads no driver (test/root-entry.test.ts checks it): the SQL classes open through
// dynamic imports, and DynamoDB's class, which holds an AWS SDK client, is in 'convostore/dynamodb'.
// Nor does it load Drizzle: the schema's tables are 'convostore/schema' (its row types are here).
export { SqlChatStorage, SqlStore, type SqlOptions, type LibsqlOptions, type SqlDatabase, type ConvostoreSchema } from './sql/index.js';
export type { SqliteOptions } from './sqlite/index.js';
export type { DynamoDbChatStorage, DynamoDbOptions, DynamoDbOpenOptions, CreateTableOptions } from './dynamodb/index.js';
export { openStorage, openTarget, type OpenOptions } from './open.js';
export {
  parseStorageUrl,
  parseLibsqlUrl,
  DEFAULT_DATABASE_FILE,
  type StorageTarget,
  type MemoryTarget,
  type SqliteTarget,
  type LibsqlTarget,
  type DynamoDbTarget,
  type BackendKind,
} from './url.js';
export { redact, redactError } from './redact.js';
export { DRIVER_PACKAGES } from './drivers.js';
export {
  ConvostoreError,
  ValidationError,
  ConsecutiveRoleError,
  TooLargeError,
  ClosedError,
  UnavailableError,
  UnauthorizedError,
  NotMigratedError,
  ConflictError,
  NotFoundError,
  MissingDriverError,
  type ErrorCode,
} from './errors.js';
export * from './types.js';
export type {
  UserRow,
  NewUserRow,
  AgentRow,
  NewAgentRow,
  SessionRow,
  NewSessionRow,
  MessageRow,
  NewMessageRow,
} from '../drizzle/schema.js';
