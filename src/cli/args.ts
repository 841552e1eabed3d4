import { parseArgs } from 'node:util';

/** A mistake in how the command was called: exit code 2 and a pointer to `--help`. */
export class UsageError extends Error {
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Shown in `--help` after the option, e.g. `URL`. */
  value?: string;
  description: string;
}

export type OptionValues = Record<string, string | boolean | undefined>;

export interface ParsedArgs {
  values: OptionValues;
  positionals: string[];
}

/** Every command takes these. */
export const commonOptions: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  verbose: { type: 'boolean', short: 'v', description: 'print the stack trace of an error' },
};

/**
 * Node's parseArgs, strict, with its errors turned into one-line usage errors. An id that starts
 * with `-` can be given after `--`.
 */
export function parseCommandLine(
  command: string,
  argv: readonly string[],
  options: Record<string, OptionSpec>,
  positionals: { min: number; max: number; names: string },
): ParsedArgs {
  const all = { ...options, ...commonOptions };
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        Object.entries(all).map(([name, spec]) => [name, spec.short ? { type: spec.type, short: spec.short } : { type: spec.type }]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(describeParseError(error), command);
  }
  const values = parsed.values as OptionValues;
  if (values.help) return { values, positionals: parsed.positionals };
  const count = parsed.positionals.length;
  if (count < positionals.min) throw new UsageError(`missing ${positionals.names}`, command);
  if (count > positionals.max) {
    throw new UsageError(`unexpected argument '${parsed.positionals[positionals.max]}'`, command);
  }
  return { values, positionals: parsed.positionals };
}

function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option '${option ?? message}'`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(message)
        ? `option '${option}' needs a value`
        : `option '${option}' does not take a value`;
    default:
      return message;
  }
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A whole number option within bounds, or the default. */
export function intOption(command: string, values: OptionValues, name: string, fallback: number, min: number, max: number): number {
  const raw = stringOption(values, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got '${raw}'`, command);
  }
  return n;
}

export interface HelpText {
  usage: string;
  summary: string;
  details?: string;
  options: Record<string, OptionSpec>;
}

export function formatHelp(help: HelpText): string {
  const rows = Object.entries({ ...help.options, ...commonOptions }).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` ${spec.value}` : ''}`;
    return [flag, spec.description] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return [
    `Usage: ${help.usage}`,
    '',
    help.summary,
    ...(help.details ? ['', help.details] : []),
    '',
    'Options:',
    ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`),
    '',
  ].join('\n');
}
