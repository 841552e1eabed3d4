import { readFileSync } from 'node:fs';
import test from 'ava';
import { GENERATED_PATH, renderStatements } from '../scripts/generate-sql.js';
import * as q from '../src/sql/queries.js';
import * as s from '../src/sql/statements.js';

test('statements.generated.ts is what `npm run generate:sql` makes from queries.ts now', (t) => {
  t.is(readFileSync(GENERATED_PATH, 'utf8'), renderStatements(), 'stale: run `npm run generate:sql`');
});

test('every statement the store runs is the one queries.ts compiles through Drizzle', (t) => {
  const compiled = Object.entries(q).filter(([, v]) => typeof v === 'object' && v !== null && 'sql' in v && 'params' in v);
  t.true(compiled.length > 30);
  for (const [name, query] of compiled) t.deepEqual((s as Record<string, unknown>)[name], query, name);
  t.is(s.INSERT_CHUNK, q.INSERT_CHUNK);
  t.is(s.NO_CUTOFF, q.NO_CUTOFF);
  t.is(s.NO_SEQ_BOUND, q.NO_SEQ_BOUND);
  t.deepEqual(s.FIRST_SESSION_PAGE, q.FIRST_SESSION_PAGE);
});

test('writeMessages builds the statement queries.ts compiles, for every rule, mode and chunk size', (t) => {
  for (const rule of ['keep', 'skip', 'throw'] as const) {
    for (const mode of ['append', 'upsert'] as const) {
      for (const count of [1, 2, 3, 17, q.INSERT_CHUNK]) {
        t.deepEqual(s.writeMessages(count, rule, mode), q.writeMessages(count, rule, mode), `${rule}/${mode}/${count}`);
      }
    }
  }
});
