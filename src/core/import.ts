import { ValidationError } from '../errors.js';
import type { ImportSessionInput, Metadata } from '../types.js';
import type { EncodedMessage } from './backend.js';
import { checkId, checkMetadata, checkOptions, checkTimestamp, checkTitle, readInput } from './validate.js';

/** A run of consecutive messages of one agent: one atomic write of an import. */
export interface ImportRun {
  agentId: string;
  messages: EncodedMessage[];
}

export interface ImportPlan {
  createdAt: number | undefined;
  lastActivityAt: number | undefined;
  title: string | undefined;
  metadata: Metadata | undefined;
  runs: ImportRun[];
}

/**
 * Checks an `importSession` input and cuts its messages (in session write order) into runs of one
 * agent each, so that writing the runs in turn reproduces the session's order across agents.
 * Every message must carry its id and timestamp: an import restores, it does not invent.
 */
export function planImport(input: unknown, encode: (field: string, message: unknown) => EncodedMessage): ImportPlan {
  const opts = checkOptions<ImportSessionInput>('input', input);
  const messages = readInput('input.messages', () => {
    if (!Array.isArray(opts.messages)) throw new ValidationError('input.messages', 'must be an array of messages');
    return [...(opts.messages as unknown[])];
  });
  const runs: ImportRun[] = [];
  const ids = new Set<string>();
  messages.forEach((raw, i) => {
    const field = `input.messages[${i}]`;
    const m = checkOptions<{ agentId: unknown; id: unknown; timestamp: unknown }>(field, raw);
    const agentId = checkId(`${field}.agentId`, m.agentId);
    if (m.id === undefined) throw new ValidationError(`${field}.id`, 'is required in an import');
    if (m.timestamp === undefined) throw new ValidationError(`${field}.timestamp`, 'is required in an import');
    const encoded = encode(field, m);
    if (ids.has(encoded.id)) throw new ValidationError(`${field}.id`, `'${encoded.id}' appears twice in one import`);
    ids.add(encoded.id);
    const last = runs[runs.length - 1];
    if (last?.agentId === agentId) last.messages.push(encoded);
    else runs.push({ agentId, messages: [encoded] });
  });
  return {
    createdAt: opts.createdAt === undefined ? undefined : checkTimestamp('input.createdAt', opts.createdAt),
    lastActivityAt: opts.lastActivityAt === undefined ? undefined : checkTimestamp('input.lastActivityAt', opts.lastActivityAt),
    title: opts.title === undefined ? undefined : checkTitle('input.title', opts.title),
    metadata: opts.metadata === undefined ? undefined : checkMetadata('input.metadata', opts.metadata),
    runs,
  };
}
