import { backend } from './backends/registry.js';
import { contractSuite } from './contract/suite.js';

const libsqlMemory = backend('libsql-memory');
contractSuite(libsqlMemory.label, (options) => libsqlMemory.open(options));
