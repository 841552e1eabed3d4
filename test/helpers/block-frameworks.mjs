// `node --import ./test/helpers/block-frameworks.mjs`: makes agent-squad, @langchain/*,
// @openai/agents-core and ai (the Vercel AI SDK) impossible to import, as in an app that installed convostore without them.
import { register } from 'node:module';

register('./block-frameworks-hooks.mjs', import.meta.url);
