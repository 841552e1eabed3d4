import { backend } from './backends/registry.js';
import { contractSuite } from './contract/suite.js';

const libsqlFile = backend('libsql-file');
contractSuite(libsqlFile.label, (options) => libsqlFile.open(options));
