/**
 * The studio's JSON API over the public store interface only (`ChatStorage`), so it behaves the same
 * on every backend. Each route takes the query (GET) or the parsed body (POST) and answers a value to
 * send as JSON; a `ConvostoreError` becomes a 4xx answer in server.ts.
 */
import { ValidationError } from '../errors.js';
import type { ChatStorage, JsonValue, Page, SessionMessage } from '../types.js';
import type { DeleteBody, ForkBody, SessionUpdateBody, TruncateBody, WriteResult } from './api.js';

/** Users and sessions per page of the lists; messages per page of a conversation (the page asks for less). */
const USERS_PAGE = 100;
const SESSIONS_PAGE = 50;
const MAX_MESSAGES_PAGE = 500;

export type Query = URLSearchParams;
export type ReadRoute = (store: ChatStorage, query: Query) => Promise<unknown>;
export type WriteRoute = (store: ChatStorage, body: Record<string, unknown>) => Promise<WriteResult>;

function param(query: Query, name: string): string {
  const value = query.get(name);
  if (value === null || value === '') throw new ValidationError(name, 'is required');
  return value;
}

function optional(query: Query, name: string): string | undefined {
  return query.get(name) ?? undefined;
}

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') throw new ValidationError(name, 'must be a non-empty string');
  return value;
}

function limit(query: Query, fallback: number, max: number): number {
  const raw = query.get('limit');
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new ValidationError('limit', `must be a whole number from 1 to ${max}`);
  return n;
}

export const reads: Record<string, ReadRoute> = {
  '/api/users': (store, q) => store.listUsers({ limit: USERS_PAGE, cursor: optional(q, 'cursor') }),
  '/api/sessions': (store, q) => store.listSessions(param(q, 'user'), { limit: SESSIONS_PAGE, cursor: optional(q, 'cursor') }),
  '/api/session': (store, q) => store.getSession(param(q, 'user'), param(q, 'session')),
  '/api/message': (store, q) => store.getMessage(param(q, 'user'), param(q, 'session'), param(q, 'id')),
  '/api/messages': (store, q): Promise<Page<SessionMessage>> => {
    const order = q.get('order') ?? 'newest';
    if (order !== 'newest' && order !== 'oldest') throw new ValidationError('order', "must be 'newest' or 'oldest'");
    return store.fetchSessionPage(param(q, 'user'), param(q, 'session'), {
      order,
      limit: limit(q, 100, MAX_MESSAGES_PAGE),
      cursor: optional(q, 'cursor'),
      after: optional(q, 'after'),
    });
  },
};

function isJsonObject(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const writes: Record<string, WriteRoute> = {
  '/api/session': async (store, body) => {
    const { title, metadata } = body as Partial<SessionUpdateBody>;
    if (title !== undefined && title !== null && typeof title !== 'string') throw new ValidationError('title', 'must be a string or null');
    if (metadata !== undefined && !isJsonObject(metadata)) throw new ValidationError('metadata', 'must be a JSON object');
    const session = await store.updateSession(field(body, 'user'), field(body, 'session'), {
      ...(title !== undefined ? { title } : {}),
      ...(metadata !== undefined ? { metadata } : {}),
    });
    return { session };
  },
  '/api/delete': async (store, body) => {
    const { ids } = body as Partial<DeleteBody>;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string')) {
      throw new ValidationError('ids', 'must be a non-empty array of message ids');
    }
    return { removed: await store.deleteMessages(field(body, 'user'), field(body, 'session'), ids) };
  },
  '/api/truncate': async (store, body) => {
    const { user, session, id } = { user: field(body, 'user'), session: field(body, 'session'), id: field(body, 'id') } satisfies TruncateBody;
    return { removed: await store.truncateAfter(user, session, id) };
  },
  '/api/fork': async (store, body) => {
    const fork: ForkBody = { user: field(body, 'user'), session: field(body, 'session'), id: field(body, 'id'), to: field(body, 'to') };
    return { session: await store.forkSession(fork.user, fork.session, fork.to, { upToMessageId: fork.id }) };
  },
};
