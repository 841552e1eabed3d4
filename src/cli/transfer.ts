/**
 * What import, copy and import-agent-squad share: feed items to a Writer with a progress bar,
 * report problems (bounded), optionally verify the destination message by message, and print the
 * summary line.
 */
import type { ChatStore } from '../core/store.js';
import { intOption, type OptionValues } from './args.js';
import { Progress, amount } from './progress.js';
import type { Item } from './source.js';
import { verifyCopy } from './verify.js';
import { Writer } from './writer.js';

/** Problems printed one per line; beyond this many only counted. */
const PRINTED_PROBLEMS = 50;
const BATCH_BYTES = 4 * 1024 * 1024;

export interface TransferPlan {
  command: string;
  values: OptionValues;
  items: AsyncIterable<Item>;
  dest: ChatStore;
  progress: Progress;
  /** How much progress an item is worth (messages, or bytes of a file). */
  weigh: (item: Item) => number;
  /** The source read again, to compare with the destination afterwards; when given and nothing went wrong. */
  expected?: () => AsyncIterable<Item>;
  /** Opening words of the summary, e.g. `imported` or `copied`. */
  verb: string;
  /** Extra checks after the stream ends; each returned string is one more problem. */
  after?: () => string[];
}

export async function transfer(plan: TransferPlan): Promise<number> {
  const { progress } = plan;
  const report = (where: string, problem: string) => {
    writer.stats.problems <= PRINTED_PROBLEMS && progress.log(`convostore: ${where}: ${problem}`);
  };
  const writer = new Writer(plan.dest, {
    batchSize: intOption(plan.command, plan.values, 'batch-size', 100, 1, 1000),
    batchBytes: BATCH_BYTES,
    report,
  });
  for await (const item of plan.items) {
    await writer.add(item);
    progress.add(plan.weigh(item));
  }
  await writer.finish();
  for (const problem of plan.after?.() ?? []) {
    writer.stats.problems++;
    progress.log(`convostore: ${problem}`);
  }
  progress.stop();
  const s = writer.stats;
  if (s.problems > PRINTED_PROBLEMS) process.stderr.write(`convostore: … ${s.problems - PRINTED_PROBLEMS} more problems not shown\n`);
  let verification = '';
  let mismatched = false;
  if (plan.expected && s.problems === 0) {
    const v = await verifyCopy(plan.expected(), plan.dest);
    for (const line of v.mismatches) process.stderr.write(`convostore: verify: ${line}\n`);
    if (v.mismatchCount > v.mismatches.length) process.stderr.write(`convostore: verify: … ${v.mismatchCount - v.mismatches.length} more sessions differ\n`);
    mismatched = v.mismatchCount > 0;
    // "verified" means every message compared equal (id, role, content, metadata, time, position).
    verification = mismatched
      ? `; VERIFY FAILED: ${v.mismatchCount} of ${amount(v.sessions, 'count')} sessions differ`
      : `; verified: ${amount(v.conversations, 'count')} conversations, ${amount(v.messages, 'count')} messages at the destination`;
  } else if (plan.expected) {
    verification = '; not verified because of the problems above';
  }
  const seconds = progress.elapsedMs / 1000;
  const rate = seconds > 0 ? ` (${amount(s.messages / seconds, 'count')} messages/s)` : '';
  process.stderr.write(
    `${plan.verb} ${amount(s.written, 'count')} messages` +
      `, ${amount(s.present, 'count')} already present` +
      ` (${amount(s.messages, 'count')} read in ${amount(s.sessions, 'count')} sessions, ${amount(s.conversations, 'count')} conversations)` +
      (s.problems > 0 ? `, ${s.problems} problem${s.problems === 1 ? '' : 's'}, ${s.failed} session${s.failed === 1 ? '' : 's'} incomplete` : '') +
      ` in ${seconds.toFixed(1)} s${rate}${verification}\n`,
  );
  return s.problems > 0 || mismatched ? 1 : 0;
}
