/**
 * The statements the store runs: queries.ts compiled ahead of time (statements.generated.ts, made by
 * `npm run generate:sql`) as plain SQL text and parameter lists, so that opening a database and
 * writing to it load no Drizzle. writeMessages' VALUES list depends on the chunk's size and is built
 * here from the generated text around it.
 */
import type { CompiledQuery, Param } from './driver.js';
import { writeMessagesTemplates } from './statements.generated.js';
import type { ConsecutiveRolePolicy } from '../types.js';
import type { WriteMode } from '../core/backend.js';
import { messageRowParams } from './limits.js';

export * from './statements.generated.js';
export { INSERT_CHUNK, NO_CUTOFF, NO_SEQ_BOUND, FIRST_SESSION_PAGE } from './limits.js';

const ROW = '(?, ?, ?, ?, ?, ?)';
const writeCache = new Map<string, CompiledQuery>();

/** Writes up to INSERT_CHUNK messages in one statement; see writeMessages in queries.ts for what it does. */
export function writeMessages(count: number, rule: ConsecutiveRolePolicy, mode: WriteMode): CompiledQuery {
  const key = `${rule}:${mode}:${count}`;
  let query = writeCache.get(key);
  if (!query) {
    const template = writeMessagesTemplates[`${rule}:${mode}:${count === 1 ? 'one' : 'many'}`];
    if (!template) throw new Error(`convostore: no writeMessages statement for ${rule}/${mode}`);
    const rows: string[] = [];
    const params: Param[] = [];
    for (let i = 0; i < count; i++) {
      rows.push(ROW);
      params.push(...messageRowParams(i));
    }
    params.push(...template.suffixParams);
    query = { sql: template.prefix + rows.join(', ') + template.suffix, params };
    writeCache.set(key, query);
  }
  return query;
}
