/**
 * Agents and a classifier for Agent Squad that answer without a model or a network, so the example
 * and the tests run anywhere and give the same answers every time. A real app uses BedrockLLMAgent,
 * OpenAIAgent, a BedrockClassifier and so on; the storage is the same.
 */
import { Agent, Classifier, ParticipantRole, type ClassifierResult, type ConversationMessage } from 'agent-squad';

type Answer = (input: string, turn: number) => string;

/** Answers with `answer(input, turn)`, where turn counts this agent's exchanges in the session. */
export class ScriptedAgent extends Agent {
  /** The history Agent Squad passed to each call, as it was then. */
  readonly received: ConversationMessage[][] = [];
  readonly #answer: Answer;

  constructor(name: string, description: string, answer: Answer) {
    super({ name, description });
    this.#answer = answer;
  }

  async processRequest(
    inputText: string,
    _userId: string,
    _sessionId: string,
    chatHistory: ConversationMessage[],
  ): Promise<ConversationMessage> {
    this.received.push(structuredClone(chatHistory));
    const turn = chatHistory.filter((m) => m.role === ParticipantRole.USER).length + 1;
    return { role: ParticipantRole.ASSISTANT, content: [{ text: this.#answer(inputText, turn) }] };
  }
}

/** id `weather-agent` (Agent Squad derives ids from names). */
export function weatherAgent(): ScriptedAgent {
  return new ScriptedAgent('Weather Agent', 'Weather forecasts', (input, turn) => {
    const city = /\bin ([A-Z][a-z]+)/.exec(input)?.[1] ?? 'your town';
    return `Weather #${turn}: ${/tomorrow/i.test(input) ? 'rain' : 'sun'} in ${city}`;
  });
}

/** id `math-agent`. */
export function mathAgent(): ScriptedAgent {
  return new ScriptedAgent('Math Agent', 'Adds numbers', (input, turn) => {
    const numbers = (input.match(/\d+/g) ?? []).map(Number);
    if (numbers.length === 0) return `Math #${turn}: nothing to add`;
    return `Math #${turn}: ${numbers.join(' + ')} = ${numbers.reduce((a, b) => a + b, 0)}`;
  });
}

/**
 * Picks the first route whose pattern matches the input; an input that matches none is a follow-up
 * and goes to the agent that answered last in the session, which it reads from the `[agentId] `
 * prefix that `fetchAllChats` puts on assistant messages.
 */
export class KeywordClassifier extends Classifier {
  /** The session history Agent Squad passed to each call, as it was then. */
  readonly received: ConversationMessage[][] = [];
  readonly #routes: ReadonlyArray<readonly [RegExp, string]>;

  constructor(routes: ReadonlyArray<readonly [RegExp, string]>) {
    super();
    this.#routes = routes;
  }

  async processRequest(inputText: string, chatHistory: ConversationMessage[]): Promise<ClassifierResult> {
    this.received.push(structuredClone(chatHistory));
    const agentId = this.#routes.find(([pattern]) => pattern.test(inputText))?.[1] ?? lastSpeaker(chatHistory);
    const selectedAgent = agentId === undefined ? null : this.getAgentById(agentId);
    return { selectedAgent, confidence: selectedAgent ? 1 : 0 };
  }
}

export const ROUTES = [
  [/weather|rain|sun/i, 'weather-agent'],
  [/\d/, 'math-agent'],
] as const;

function lastSpeaker(history: ConversationMessage[]): string | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const message = history[i]!;
    if (message.role !== ParticipantRole.ASSISTANT) continue;
    const text: unknown = message.content?.[0]?.text;
    const tag = typeof text === 'string' ? /^\[([^\]]+)\] /.exec(text) : null;
    if (tag) return tag[1];
  }
  return undefined;
}
