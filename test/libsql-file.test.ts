import { SqlChatStorage } from '../src/index.js';
import { contractSuite } from './contract/suite.js';
import { countRows } from './helpers/sql.js';
import { tempDir, tempFile } from './helpers/tmp.js';

const dir = tempDir('libsql');

contractSuite('libsql (file:)', async (options) => {
  const store = await SqlChatStorage.openLibsql(`file:${tempFile(dir)}`, options);
  return { store, rawCount: () => countRows(store) };
});
