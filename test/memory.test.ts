import { backend } from './backends/registry.js';
import { contractSuite } from './contract/suite.js';

const memory = backend('memory');
contractSuite(memory.label, (options) => memory.open(options));
