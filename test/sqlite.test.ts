import { backend } from './backends/registry.js';
import { contractSuite } from './contract/suite.js';

const sqlite = backend('sqlite');
contractSuite(sqlite.label, (options) => sqlite.open(options));
