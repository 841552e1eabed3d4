/** The framework examples run as a user would run them (on `memory:`) and print what they promise. */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs an example on `memory:` as a user would; it must write nothing to stderr. Its stdout, by line. */
async function exampleLines(t: ExecutionContext, example: string): Promise<string[]> {
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', example, 'memory:'], { cwd: root });
  t.is(stderr, '');
  return stdout.split('\n');
}

test('examples/agent-squad.ts routes five requests and lists what convostore stored', async (t) => {
  const lines = await exampleLines(t, 'examples/agent-squad.ts');
  t.deepEqual(lines.slice(0, 10), [
    '[morning] ada: Will it rain in Paris?',
    '[morning] weather-agent: Weather #1: sun in Paris',
    '[morning] ada: And tomorrow?',
    '[morning] weather-agent: Weather #2: rain in your town',
    '[evening] ada: What is 19 plus 23?',
    '[evening] math-agent: Math #1: 19 + 23 = 42',
    '[morning] ada: Add 2 and 2',
    '[morning] math-agent: Math #1: 2 + 2 = 4',
    '[evening] ada: Is it sunny in Lisbon?',
    '[evening] weather-agent: Weather #1: sun in Lisbon',
  ]);
  t.true(lines.includes('  session morning: 6 messages (math-agent ×2, weather-agent ×4)'));
  t.true(lines.includes('  assistant: [weather-agent] Weather #2: rain in your town'));
});

test('examples/langchain.ts keeps a tool-calling conversation and reads it back', async (t) => {
  const lines = await exampleLines(t, 'examples/langchain.ts');
  t.deepEqual(lines.slice(0, 2), ['ai: Hello Ada!', 'ai: Your name is Ada, and Paris is sunny.']);
  t.true(lines.includes('  ai: "" tool_calls=[{"id":"call-1","name":"weather","args":{"city":"Paris"},"type":"tool_call"}]'));
  t.true(lines.includes('  tool: "sunny, 24°C"'));
  const stored = lines.slice(lines.indexOf('The same conversation through convostore (roles and first text block):') + 1).filter(Boolean);
  t.deepEqual(stored.map((l) => l.split(':')[0]!.trim()), ['user', 'assistant', 'assistant', 'tool', 'user', 'assistant']);
});

test('examples/openai-agents.ts runs two turns through the SDK and reads the session back', async (t) => {
  const lines = await exampleLines(t, 'examples/openai-agents.ts');
  t.deepEqual(lines.slice(0, 2), ['agent: Paris is sunny (24°C); Oslo has rain (14°C).', 'agent: You asked about Paris and Oslo.']);
  t.true(lines.includes('  function_call: weather({"city":"Oslo"})'));
  t.true(lines.includes('  function_call_result: {"type":"text","text":"rain, 14°C"}'));
  // Parallel calls and their results: repeated roles kept, one stored message per item.
  const stored = lines.slice(lines.indexOf('The same conversation through convostore (one message per item):') + 1).filter(Boolean);
  t.deepEqual(stored, [
    '  user: message',
    '  assistant: function_call',
    '  assistant: function_call',
    '  tool: function_call_result',
    '  tool: function_call_result',
    '  assistant: message',
    '  user: message',
    '  assistant: message',
  ]);
});
