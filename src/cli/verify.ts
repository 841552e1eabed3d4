/**
 * After a copy, an import or an Agent Squad import, the destination is read back and compared with
 * the source (a store, a file, a table), read a second time: every session's title and metadata, and every message in the session's write
 * order (agent, id, role, content, metadata, timestamp, position). Both sides are streamed page by
 * page in step, so memory stays bounded whatever the size.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ChatStore } from '../core/store.js';
import type { SessionMessage, SessionSummary } from '../types.js';
import type { MessageRecord, SessionRecord } from './format.js';
import { sessionMessages, type Item } from './source.js';

export interface Verification {
  sessions: number;
  /** Distinct (session, agent) pairs of the source. */
  conversations: number;
  messages: number;
  /** The first difference of each differing session; at most `limit` kept. */
  mismatches: string[];
  /** Sessions that differ. */
  mismatchCount: number;
}

interface Checked {
  record: SessionRecord;
  dest: AsyncGenerator<SessionMessage>;
  agents: Set<string>;
  position: number;
  difference: string | undefined;
}

const sameSession = (a: { userId: string; sessionId: string }, b: { userId: string; sessionId: string }) =>
  a.userId === b.userId && a.sessionId === b.sessionId;

export async function verifyCopy(expected: AsyncIterable<Item>, dest: ChatStore, limit = 20): Promise<Verification> {
  const result: Verification = { sessions: 0, conversations: 0, messages: 0, mismatches: [], mismatchCount: 0 };
  let current: Checked | undefined;

  const finish = async () => {
    if (!current) return;
    const session = current;
    current = undefined;
    result.conversations += session.agents.size;
    if (session.difference === undefined) {
      const extra = await session.dest.next();
      if (!extra.done) session.difference = `the destination holds more messages, from message ${session.position + 1} (id ${extra.value.id}) on`;
    }
    await session.dest.return(undefined);
    if (session.difference === undefined) return;
    result.mismatchCount++;
    if (result.mismatches.length < limit) result.mismatches.push(`(${session.record.userId}, ${session.record.sessionId}): ${session.difference}`);
  };

  const begin = async (record: SessionRecord, implicit: boolean) => {
    await finish();
    result.sessions++;
    const { userId, sessionId } = record;
    const stored = await dest.getSession(userId, sessionId);
    current = {
      record,
      dest: sessionMessages(dest, userId, sessionId),
      agents: new Set(),
      position: 0,
      // A session without a session line (an import file may leave them out) says nothing about its
      // title, metadata or times: only its messages are compared, as the writer wrote only those.
      difference: implicit ? (stored === null ? 'the session is missing at the destination' : undefined) : sessionDifference(record, stored),
    };
  };

  for await (const item of expected) {
    if (item.kind === 'session') {
      await begin(item.record, false);
    } else if (item.kind === 'message') {
      const { userId, sessionId } = item.record;
      if (!current || !sameSession(current.record, item.record)) await begin({ type: 'session', userId, sessionId }, true);
      const session = current!;
      result.messages++;
      session.agents.add(item.record.agentId);
      session.position++;
      if (session.difference !== undefined) continue;
      const stored = await session.dest.next();
      session.difference = stored.done
        ? `message ${session.position} (${describe(item.record)}) is missing at the destination`
        : messageDifference(item.record, stored.value, session.position);
    }
  }
  await finish();
  return result;
}

function sessionDifference(record: SessionRecord, stored: SessionSummary | null): string | undefined {
  if (stored === null) return 'the session is missing at the destination';
  for (const field of ['title', 'metadata', 'createdAt', 'lastActivityAt'] as const) {
    if (record[field] !== undefined && !isDeepStrictEqual(record[field], stored[field])) {
      return `its ${field} differs: ${brief(record[field])} expected, ${brief(stored[field])} at the destination`;
    }
  }
  for (const field of ['title', 'metadata'] as const) {
    if (record[field] === undefined && stored[field] !== undefined) return `its ${field} differs: none expected, ${brief(stored[field])} at the destination`;
  }
  return undefined;
}

function messageDifference(record: MessageRecord, stored: SessionMessage, position: number): string | undefined {
  // An id-less source (Agent Squad) has no ids to compare; the writer derived them.
  const fields = ['agentId', ...(record.id === undefined ? [] : ['id' as const]), 'role', 'content', 'metadata', 'timestamp'] as const;
  for (const field of fields) {
    if (!isDeepStrictEqual(record[field], stored[field])) {
      return `message ${position} (${describe(record)}) differs in its ${field}: ${brief(record[field])} expected, ${brief(stored[field])} at the destination`;
    }
  }
  return undefined;
}

/** A value as JSON, cut short: a mismatch line names the difference, it does not dump the message. */
function brief(value: unknown): string {
  const json = JSON.stringify(value) ?? 'none';
  return json.length > 80 ? `${json.slice(0, 79)}…` : json;
}

function describe(record: MessageRecord): string {
  return record.id === undefined ? `agent ${record.agentId}, seq ${record.seq ?? '?'}` : `id ${record.id}`;
}
