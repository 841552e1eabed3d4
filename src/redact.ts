/**
 * The one redaction. Every error message, `cause`, log line and CLI output that may hold a URL or a
 * driver's words goes through here, so that no credential is ever printed. It masks:
 * - the value of a credential query parameter (`authToken`, `token`, `access_token`, `password`…),
 * - the password of a URL's userinfo (`libsql://user:PASSWORD@host`), percent-encoded too,
 * - header values that carry credentials (`Authorization: Bearer …`, `x-api-key`, cookies),
 * - and every secret the caller names literally (a token given as an option or read from the
 *   environment), as written and percent-encoded, since a driver may echo it anywhere.
 */
const MASK = '***';

const CREDENTIAL_PARAM =
  /([?&;](?:auth[_-]?token|token|access[_-]?token|id[_-]?token|refresh[_-]?token|password|passwd|secret|api[_-]?key|x-amz-security-token|x-amz-signature)=)[^&#\s'"<>]*/gi;
const USERINFO_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/?#@:'"]*:)[^\s/?#@'"]*@/gi;
/** The same inside a percent-encoded URL, e.g. a DynamoDB `endpoint=` parameter. */
const ENCODED_USERINFO_PASSWORD = /(\b[a-z][a-z0-9+.-]*%3A%2F%2F[^\s/?#&@:'"%]*%3A)[^\s/?#&@'"]*?%40/gi;
const CREDENTIAL_HEADER =
  /((?:proxy-)?authorization|x-api-key|x-amz-security-token|cookie|set-cookie)(["']?\s*[:=]\s*["']?)((?:bearer|basic|token)\s+)?[^\s"',;}]+/gi;

/** Secrets shorter than this are not masked literally: they would mask ordinary words. */
const MIN_LITERAL = 4;

export type Secrets = Iterable<string | undefined | null>;

/**
 * The credentials written inside a text (parameter values, userinfo passwords, header values), as
 * literal secrets: a driver may echo one where no pattern would recognise it.
 */
export function secretsIn(text: string): string[] {
  const found: string[] = [];
  const collect = (pattern: RegExp, group: number) => {
    for (const match of [...text.matchAll(pattern), ...safeDecode(text).matchAll(pattern)]) {
      const value = match[0].slice(match.slice(1, group + 1).join('').length).replace(/@$/, '');
      if (value) found.push(value, safeDecode(value));
    }
  };
  collect(CREDENTIAL_PARAM, 1);
  collect(USERINFO_PASSWORD, 1);
  collect(CREDENTIAL_HEADER, 3);
  return [...new Set(found)];
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export function redact(text: string, secrets: Secrets = []): string {
  let out = text.replace(CREDENTIAL_PARAM, `$1${MASK}`).replace(USERINFO_PASSWORD, `$1${MASK}@`)
    .replace(ENCODED_USERINFO_PASSWORD, `$1${MASK}%40`).replace(CREDENTIAL_HEADER, `$1$2$3${MASK}`);
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_LITERAL) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join(MASK);
  }
  return out;
}

/**
 * Redacts an error and everything it carries (its `cause` chain, an AggregateError's `errors`) in
 * place — message and stack — and returns it. A driver's error is rewritten rather than dropped, so
 * its class, code and other fields stay for the caller to branch on.
 */
export function redactError<T>(error: T, secrets: Secrets = []): T {
  const names = [...secrets];
  const seen = new Set<unknown>();
  const visit = (value: unknown): void => {
    if (!(value instanceof Error) || seen.has(value)) return;
    seen.add(value);
    rewrite(value, 'message', names);
    rewrite(value, 'stack', names);
    visit(value.cause);
    if (value instanceof AggregateError) value.errors.forEach(visit);
  };
  visit(error);
  return error;
}

function rewrite(error: Error, field: 'message' | 'stack', secrets: Secrets): void {
  const text = error[field];
  if (typeof text !== 'string') return;
  const clean = redact(text, secrets);
  if (clean === text) return;
  try {
    Object.defineProperty(error, field, { value: clean, writable: true, configurable: true, enumerable: false });
  } catch {
    // A frozen error cannot be rewritten; the callers that print it redact its text again.
  }
}
