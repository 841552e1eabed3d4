export { ChatStore } from './core/store.js';
export type { StorageBackend } from './core/backend.js';
export { MAX_ID_LENGTH, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE } from './core/validate.js';
export { InMemoryChatStorage, type InMemoryOptions } from './memory/index.js';
export { SqlChatStorage, type SqlOptions, type LibsqlOptions, type SqlDatabase, type ConvostoreSchema } from './sql/index.js';
export {
  DynamoDbChatStorage,
  DYNAMODB_MAX_MESSAGE_BYTES,
  dynamoDbTableDefinition,
  createDynamoDbTable,
  type DynamoDbOptions,
  type DynamoDbOpenOptions,
  type CreateTableOptions,
} from './dynamodb/index.js';
export { openStorage, type OpenOptions } from './open.js';
export { parseStorageUrl, DEFAULT_DATABASE_FILE, type StorageTarget } from './url.js';
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
  type ErrorCode,
} from './errors.js';
export * from './types.js';
export * as schema from '../drizzle/schema.js';
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
