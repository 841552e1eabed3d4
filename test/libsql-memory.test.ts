import { SqlChatStorage } from '../src/index.js';
import { contractSuite } from './contract/suite.js';
import { countRows } from './helpers/sql.js';

contractSuite('libsql (:memory:)', async (options) => {
  const store = await SqlChatStorage.openLibsql(':memory:', options);
  return { store, rawCount: () => countRows(store) };
});
