import type { HelpText, ParsedArgs } from './args.js';

export interface Command extends HelpText {
  name: string;
  positionals: { min: number; max: number; names: string };
  /** Resolves to the exit code. */
  run(args: ParsedArgs): Promise<number>;
}
