/**
 * Reads the `conversations` table of Agent Squad's SqlChatStorage (awslabs/agent-squad,
 * typescript/src/storage/sqlChatStorage.ts):
 *
 *   CREATE TABLE IF NOT EXISTS conversations (
 *     user_id TEXT NOT NULL, session_id TEXT NOT NULL, agent_id TEXT NOT NULL,
 *     message_index INTEGER NOT NULL, role TEXT NOT NULL,
 *     content TEXT NOT NULL,      -- JSON.stringify of the content block array
 *     timestamp INTEGER NOT NULL, -- Date.now() at the write
 *     PRIMARY KEY (user_id, session_id, agent_id, message_index))
 *
 * Everything is read by keyset pages along the primary key, so any table size takes constant memory.
 * Rows have no message id: the import derives one from (user, session, agent, message_index), so a
 * second import finds what the first one wrote (derived-ids.ts).
 */
import { createClient, type Client, type InValue, type Row } from '@libsql/client';
import { checkId, checkRole } from '../core/validate.js';
import { ConvostoreError, UnavailableError } from '../errors.js';
import { redact, redactError } from '../redact.js';
import type { ContentBlock, ConversationKey } from '../types.js';
import { parseLibsqlUrl } from '../url.js';
import { mergeConversations, type AgentStream } from './agent-squad-merge.js';
import { READ_PAGE, type Item } from './source.js';

const COLUMNS = ['user_id', 'session_id', 'agent_id', 'message_index', 'role', 'content', 'timestamp'];
const SESSION_PAGE = 100;

export class AgentSquadSource {
  readonly #client: Client;

  private constructor(client: Client) {
    this.#client = client;
  }

  /**
   * Opens the database read-only in spirit: only SELECTs are ever sent. The URL goes through the
   * store's parser (a bare path or sqlite:PATH is the same file through libSQL); a remote token comes
   * from the URL's authToken parameter, else `authToken`.
   */
  static async open(url: string, authToken: string | undefined): Promise<AgentSquadSource> {
    const target = parseLibsqlUrl(url);
    const token = target.transport === 'remote' ? (target.authToken ?? authToken) : undefined;
    const shown = redact(url, [token]);
    let client: Client;
    try {
      client = createClient({ url: target.url, authToken: token, intMode: 'number' });
    } catch (error) {
      throw new UnavailableError(`cannot open the Agent Squad database ${shown}`, redactError(error, [token]));
    }
    const source = new AgentSquadSource(client);
    try {
      await source.#checkTable(shown);
      return source;
    } catch (error) {
      client.close();
      throw redactError(error, [token]);
    }
  }

  close(): void {
    this.#client.close();
  }

  async #checkTable(url: string): Promise<void> {
    let columns: string[];
    try {
      columns = (await this.#client.execute('PRAGMA table_info(conversations)')).rows.map((r) => String(r.name));
    } catch (error) {
      throw new UnavailableError(`cannot read the Agent Squad database ${url}`, error);
    }
    if (columns.length === 0) {
      throw new ConvostoreError('VALIDATION', `${url} has no 'conversations' table (the table Agent Squad's SqlChatStorage creates)`);
    }
    const missing = COLUMNS.filter((c) => !columns.includes(c));
    if (missing.length > 0) {
      throw new ConvostoreError('VALIDATION', `the 'conversations' table at ${url} lacks Agent Squad's column(s) ${missing.join(', ')}`);
    }
  }

  async #rows(sql: string, args: InValue[]): Promise<Row[]> {
    try {
      return (await this.#client.execute({ sql, args })).rows;
    } catch (error) {
      throw new UnavailableError('reading the Agent Squad table failed', error);
    }
  }

  async *#sessions(only: string | undefined): AsyncGenerator<{ userId: unknown; sessionId: unknown; first: unknown; last: unknown }> {
    const filter = only === undefined ? '' : 'user_id = ? AND';
    let after: [unknown, unknown] | undefined;
    for (;;) {
      const bound = after ? '(user_id, session_id) > (?, ?)' : '1';
      const rows = await this.#rows(
        `SELECT user_id, session_id, min(timestamp) AS first, max(timestamp) AS last FROM conversations
         WHERE ${filter} ${bound} GROUP BY user_id, session_id ORDER BY user_id, session_id LIMIT ${SESSION_PAGE}`,
        [...(only === undefined ? [] : [only]), ...((after ?? []) as InValue[])],
      );
      for (const r of rows) yield { userId: r.user_id, sessionId: r.session_id, first: r.first, last: r.last };
      if (rows.length < SESSION_PAGE) return;
      const last = rows[rows.length - 1]!;
      after = [last.user_id, last.session_id];
    }
  }

  /** Every session, then its messages in write order across agents (by timestamp, as Agent Squad's fetchAllChats orders them). */
  async *items(only: string | undefined): AsyncGenerator<Item> {
    for await (const s of this.#sessions(only)) {
      const where = `conversations rows of user_id ${JSON.stringify(s.userId)}, session_id ${JSON.stringify(s.sessionId)}`;
      let userId: string;
      let sessionId: string;
      try {
        userId = checkId('user_id', s.userId);
        sessionId = checkId('session_id', s.sessionId);
      } catch (error) {
        yield { kind: 'problem', where, reason: `${(error as Error).message}; this session is not imported` };
        continue;
      }
      yield {
        kind: 'session',
        record: { type: 'session', userId, sessionId, createdAt: time(s.first), lastActivityAt: time(s.last) },
        where,
      };
      const agents = await this.#rows('SELECT DISTINCT agent_id FROM conversations WHERE user_id = ? AND session_id = ? ORDER BY agent_id', [
        userId,
        sessionId,
      ]);
      yield* mergeConversations(agents.map((a) => this.#conversation(userId, sessionId, a.agent_id)));
    }
  }

  async *#conversation(userId: string, sessionId: string, rawAgentId: unknown): AgentStream {
    let agentId: string;
    try {
      agentId = checkId('agent_id', rawAgentId);
    } catch (error) {
      const where = `conversations rows of user_id ${JSON.stringify(userId)}, session_id ${JSON.stringify(sessionId)}, agent_id ${JSON.stringify(rawAgentId)}`;
      yield { kind: 'problem', where, reason: `${(error as Error).message}; this conversation is not imported` };
      return;
    }
    const key: ConversationKey = { userId, sessionId, agentId };
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const rows = await this.#rows(
        `SELECT message_index, role, content, timestamp FROM conversations
         WHERE user_id = ? AND session_id = ? AND agent_id = ? AND message_index > ? ORDER BY message_index LIMIT ${READ_PAGE}`,
        [userId, sessionId, agentId, after],
      );
      for (const row of rows) yield toItem(key, row);
      if (rows.length < READ_PAGE) return;
      after = Number(rows[rows.length - 1]!.message_index);
    }
  }

  async total(only: string | undefined): Promise<number> {
    const rows = await this.#rows(`SELECT count(*) AS n FROM conversations${only === undefined ? '' : ' WHERE user_id = ?'}`, only === undefined ? [] : [only]);
    return Number(rows[0]?.n ?? 0);
  }
}

function toItem(key: ConversationKey, row: Row): Extract<Item, { kind: 'message' | 'bad' }> {
  const where = `conversations row (user_id ${JSON.stringify(key.userId)}, session_id ${JSON.stringify(key.sessionId)}, agent_id ${JSON.stringify(key.agentId)}, message_index ${String(row.message_index)})`;
  try {
    const role = checkRole('role', row.role);
    const timestamp = time(row.timestamp);
    if (timestamp === undefined) throw new Error(`timestamp: must be epoch milliseconds, got ${JSON.stringify(row.timestamp)}`);
    let content: unknown;
    try {
      content = JSON.parse(String(row.content));
    } catch {
      throw new Error('content: is not JSON');
    }
    if (typeof content === 'string') content = [{ text: content }];
    if (!Array.isArray(content)) throw new Error('content: is not an array of content blocks');
    return {
      kind: 'message',
      record: { type: 'message', ...key, seq: Number(row.message_index) + 1, role, content: content as ContentBlock[], timestamp },
      where,
    };
  } catch (error) {
    return { kind: 'bad', where, reason: (error as Error).message, key };
  }
}

function time(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}
