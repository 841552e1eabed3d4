import { InMemoryChatStorage } from '../src/index.js';
import { contractSuite } from './contract/suite.js';

contractSuite('memory', async (options) => ({ store: new InMemoryChatStorage(options) }));
