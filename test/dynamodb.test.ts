/** The contract suite on DynamoDB Local, started by the first test and stopped by the registry. */
import { backend } from './backends/registry.js';
import { contractSuite } from './contract/suite.js';

const dynamodb = backend('dynamodb');
contractSuite(dynamodb.label, (options) => dynamodb.open(options));
