/**
 * Pages written per append on better-sqlite3, read from the WAL: each transaction appends one frame
 * per page it changed, so (WAL growth) / (page size + frame header) / appends is the pages an append
 * writes. The store, the relational baseline (the same schema and writes, by hand) and the flat
 * floor each get their own file, prefilled to `history` messages, checkpointed to an empty WAL, then
 * appended to (window 20) fewer times than the auto-checkpoint would interrupt.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqlChatStorage } from '../src/index.js';
import { betterSqlite3Baseline, betterSqlite3Flat, type Baseline } from './baselines.js';
import { content, message, round2 } from './measure.js';

export interface PagesRow {
  side: string;
  history: number;
  pagesPerAppend: number;
  walBytesPerAppend: number;
}

const APPENDS = 50;
const WAL_HEADER = 32;
const FRAME_HEADER = 24;

export async function pagesPerAppend(dir: string, history: number): Promise<PagesRow[]> {
  const rows: PagesRow[] = [];
  const batch = Array.from({ length: history }, (_, i) => message(i));
  const measureFile = async (side: string, path: string, append: (i: number) => Promise<unknown>) => {
    const probe = new Database(path);
    const pageSize = probe.pragma('page_size', { simple: true }) as number;
    probe.pragma('wal_checkpoint(TRUNCATE)');
    const before = statSync(`${path}-wal`).size;
    for (let i = 0; i < APPENDS; i++) await append(history + i);
    const grown = Math.max(0, statSync(`${path}-wal`).size - Math.max(before, WAL_HEADER));
    probe.close();
    rows.push({ side, history, pagesPerAppend: round2(grown / (pageSize + FRAME_HEADER) / APPENDS), walBytesPerAppend: Math.round(grown / APPENDS) });
  };

  const storePath = join(dir, 'pages-store.db');
  const store = await SqlChatStorage.openSqlite(storePath, { logger: null });
  try {
    for (let start = 0; start < history; start += 10_000) await store.saveChatMessages('bench', 'pages', 'agent', batch.slice(start, start + 10_000), 0);
    await measureFile('convostore', storePath, (i) => store.saveChatMessage('bench', 'pages', 'agent', message(i), 20));
  } finally {
    await store.close();
  }

  const floors: Array<[string, (path: string) => Baseline, string]> = [
    // The relational baseline needs convostore's tables: its file is migrated by opening a store on it.
    ['relational baseline', betterSqlite3Baseline, 'pages-relational.db'],
    ['flat floor', betterSqlite3Flat, 'pages-flat.db'],
  ];
  for (const [side, open, file] of floors) {
    const path = join(dir, file);
    if (side === 'relational baseline') await (await SqlChatStorage.openSqlite(path, { logger: null })).close();
    const floor = open(path);
    try {
      const rowsFor = batch.map((m, i): [string, string] => [m.role, content(i)]);
      for (let start = 0; start < history; start += 10_000) await floor.bulk('bench', 'pages', 'agent', rowsFor.slice(start, start + 10_000), false);
      await measureFile(side, path, (i) => floor.append('bench', 'pages', 'agent', i % 2 === 0 ? 'user' : 'assistant', content(i), 20));
    } finally {
      await floor.close();
    }
  }
  return rows;
}
