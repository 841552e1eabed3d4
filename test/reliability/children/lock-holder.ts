/** `lock-holder.ts <path> <ms>`: holds SQLite's write lock on a file for `ms`, then commits and exits. */
import Database from 'better-sqlite3';
import { send } from './protocol.js';

const [path, ms] = process.argv.slice(2) as [string, string];
const db = new Database(path);
db.exec('BEGIN IMMEDIATE');
db.prepare('INSERT INTO convostore_agents (id, created_at) VALUES (?, 0)').run(`holder-${process.pid}`);
send({ event: 'locked' });
setTimeout(() => {
  db.exec('COMMIT');
  db.close();
  send({ event: 'released' });
}, Number(ms));
