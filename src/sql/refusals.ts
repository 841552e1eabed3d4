/**
 * How a batch that refused itself says why. Refusals come back as SQLite constraint errors (see
 * convostore_refusals in drizzle/schema.ts and writeMessages in queries.ts); both drivers keep
 * SQLite's message, possibly behind a prefix or inside a `cause`.
 */
export type Refusal =
  | 'conflict'
  | 'not_found'
  | 'consecutive_role'
  | 'too_large'
  /** writeMessages' NOT NULL refusals: the first fresh message repeats a role (`throw`)… */
  | 'repeat'
  /** …or a stored id belongs to another agent, has another role, or other content. */
  | 'other_agent'
  | 'other_role'
  | 'other_content';

const PATTERNS: Array<[RegExp, Refusal]> = [
  [/CHECK constraint failed: convostore_refused_(conflict|not_found|consecutive_role|too_large)\b/, 'conflict'],
  [/NOT NULL constraint failed: convostore_messages\.seq\b/, 'repeat'],
  [/NOT NULL constraint failed: convostore_messages\.agent_pk\b/, 'other_agent'],
  [/NOT NULL constraint failed: convostore_messages\.role\b/, 'other_role'],
  [/NOT NULL constraint failed: convostore_messages\.content\b/, 'other_content'],
];

export function refusalOf(error: unknown): Refusal | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    for (const [pattern, refusal] of PATTERNS) {
      const match = pattern.exec(e.message);
      if (match) return refusal === 'conflict' ? (match[1] as Refusal) : refusal;
    }
  }
  return undefined;
}
