/**
 * The data of the scale tests, shared by the parent (what to expect) and the child (what to write
 * and read). User `u` has one session `big`: agent `a` holds the large conversation (ids `a-0` …,
 * one second apart), agent `side` SIDE messages after it. The store's TTL expires the older half of
 * `a` exactly, so prune removes half and every read skips it. User `many` has `sessions` sessions of
 * `messages` messages each, all live.
 */
export const FULL = process.env.SCALE_FULL === '1';

export interface Sizes {
  /** Messages in the conversation (u, big, a). */
  big: number;
  /** deleteUser: sessions of user `many`, messages in each. */
  many: { sessions: number; messages: number };
}

/** The sizes behind SCALE_FULL=1; sizes that keep `npm test` short otherwise. */
export const SIZES: Record<'memory' | 'sqlite' | 'dynamodb', Sizes> = FULL
  ? {
      memory: { big: 1_000_000, many: { sessions: 1_000, messages: 100 } },
      sqlite: { big: 1_000_000, many: { sessions: 1_000, messages: 100 } },
      dynamodb: { big: 100_000, many: { sessions: 1_000, messages: 10 } },
    }
  : {
      // 130,000: past where a spread of the conversation into Math.max overflows the stack (Node 20).
      memory: { big: 130_000, many: { sessions: 200, messages: 5 } },
      sqlite: { big: 50_000, many: { sessions: 200, messages: 5 } },
      dynamodb: { big: 500, many: { sessions: 10, messages: 5 } },
    };

export const SIDE = 10;
export const T0 = 1_700_000_000_000;
const STEP = 1_000;

/** The store's clock: just after the last message of `big`. */
export function nowFor(big: number): number {
  return T0 + (big + SIDE + 1) * STEP;
}

/** A TTL under which exactly messages a-(big/2) … and all of `side` and `many` are live. */
export function ttlFor(big: number): number {
  return nowFor(big) - (T0 + Math.floor(big / 2) * STEP);
}

/** Live messages of (u, big, a) under that TTL. */
export function liveOfBig(big: number): number {
  return big - Math.floor(big / 2);
}

export interface ImportChunk {
  userId: string;
  sessionId: string;
  messages: Array<{ agentId: string; id: string; role: 'user' | 'assistant'; content: string; timestamp: number }>;
}

/** Everything to write, in importSession calls of at most `chunk` messages. */
export function* chunks(sizes: Sizes, parts: { big: boolean; many: boolean }, chunk: number): Generator<ImportChunk> {
  const message = (agentId: string, i: number, timestamp: number) => ({
    agentId,
    id: `${agentId}-${i}`,
    role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
    content: `message ${i} of ${agentId}: a line of ordinary length for a chat turn`,
    timestamp,
  });
  if (parts.big) {
    for (let from = 0; from < sizes.big; from += chunk) {
      const messages = [];
      for (let i = from; i < Math.min(sizes.big, from + chunk); i++) messages.push(message('a', i, T0 + i * STEP));
      yield { userId: 'u', sessionId: 'big', messages };
    }
    yield { userId: 'u', sessionId: 'big', messages: Array.from({ length: SIDE }, (_, i) => message('side', i, T0 + (sizes.big + i) * STEP)) };
  }
  if (parts.many) {
    const at = nowFor(sizes.big) - sizes.many.messages * STEP;
    for (let s = 0; s < sizes.many.sessions; s++) {
      yield { userId: 'many', sessionId: `s${s}`, messages: Array.from({ length: sizes.many.messages }, (_, i) => message('a', i, at + i * STEP)) };
    }
  }
}
