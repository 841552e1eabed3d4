import { SqlChatStorage } from '../src/index.js';
import { contractSuite } from './contract/suite.js';
import { countRows } from './helpers/sql.js';
import { tempDir, tempFile } from './helpers/tmp.js';

const dir = tempDir('sqlite');

contractSuite('sqlite (better-sqlite3, file)', async (options) => {
  const store = await SqlChatStorage.openSqlite(tempFile(dir), options);
  return { store, rawCount: () => countRows(store) };
});
