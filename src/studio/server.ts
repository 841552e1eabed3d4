/**
 * `convostore studio`'s web server, on node:http, bound to 127.0.0.1 only. Every request needs the
 * access token (Jupyter's model): in the `token` query parameter (the printed address, the page's own
 * script and style) or as `Authorization: Bearer` (the page's API calls); without it, 401. No cookie
 * is ever set, so another site cannot borrow the page's rights. Writes (only with `--write`) also need
 * the header form of the token, a same-origin `Origin` and a JSON body. Every answer carries a strict
 * Content-Security-Policy: the page loads its own script and style and nothing else.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConvostoreError } from '../errors.js';
import { redact } from '../redact.js';
import type { ChatStorage } from '../types.js';
import type { StudioError, StudioInfo } from './api.js';
import { pageHtml, pageScript, STYLE } from './assets.js';
import { reads, writes } from './routes.js';

const HOST = '127.0.0.1';
const MAX_BODY = 1 << 20;
const POLL_MS = 1500;

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // Images of messages are shown only when they are data: URLs; nothing is fetched from elsewhere.
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface StudioOptions {
  store: ChatStorage & { readonly backend?: string };
  /** Enables the write routes. */
  write?: boolean;
  /** 0 (default): a free port. */
  port?: number;
  /** The database as it may be shown: already redacted. */
  source: string;
  /** Credentials the process knows: masked from anything the server sends or logs. */
  secrets?: string[];
  /** Where server errors are reported; default stderr. */
  log?: (line: string) => void;
}

export interface Studio {
  /** The address to open, token included. */
  url: string;
  origin: string;
  token: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const STATUS: Partial<Record<string, number>> = { VALIDATION: 400, CONSECUTIVE_ROLE: 400, TOO_LARGE: 413, NOT_FOUND: 404, CONFLICT: 409 };

export async function startStudio(options: StudioOptions): Promise<Studio> {
  const token = randomBytes(24).toString('base64url');
  const expected = Buffer.from(token);
  const secrets = [...(options.secrets ?? [])];
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const write = options.write === true;
  let origins: string[] = [];

  const tokenMatches = (given: string | null | undefined): boolean => {
    if (!given) return false;
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  };
  const bearer = (req: IncomingMessage) => /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];

  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, {
      'content-type': type,
      'content-length': Buffer.byteLength(body),
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'cross-origin-resource-policy': 'same-origin',
    });
    res.end(body);
  };
  // Stored data goes out as stored (a debugging tool must not rewrite it); error messages, which may
  // echo a driver's words about the URL, and the source line are redacted.
  const json = (res: ServerResponse, status: number, value: unknown) => send(res, status, 'application/json; charset=utf-8', JSON.stringify(value) ?? 'null');
  const fail = (res: ServerResponse, status: number, code: string, message: string) =>
    json(res, status, { error: redact(message, secrets), code } satisfies StudioError);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://studio.invalid');
    // DNS rebinding: a page of another site reaching 127.0.0.1 through its own name sends its own Host.
    if (!origins.some((o) => o === `http://${req.headers.host ?? ''}`)) throw new HttpError(403, 'HOST', 'unexpected Host header');
    if (!tokenMatches(url.searchParams.get('token')) && !tokenMatches(bearer(req))) {
      throw new HttpError(401, 'UNAUTHORIZED', 'the studio needs its access token: open the address it printed');
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (url.pathname === '/') return send(res, 200, 'text/html; charset=utf-8', pageHtml(token));
      if (url.pathname === '/studio.js') return send(res, 200, 'text/javascript; charset=utf-8', await pageScript());
      if (url.pathname === '/studio.css') return send(res, 200, 'text/css; charset=utf-8', STYLE);
      if (url.pathname === '/api/info') {
        const info: StudioInfo = { backend: options.store.backend ?? 'unknown', source: redact(options.source, secrets), write, pollMs: POLL_MS };
        return json(res, 200, info);
      }
      const route = reads[url.pathname];
      if (!route) throw new HttpError(404, 'NOT_FOUND', `no such page: ${url.pathname}`);
      return json(res, 200, await route(options.store, url.searchParams));
    }
    if (req.method === 'POST') {
      const route = writes[url.pathname];
      if (!route) throw new HttpError(404, 'NOT_FOUND', `no such action: ${url.pathname}`);
      if (!write) throw new HttpError(403, 'READ_ONLY', 'the studio is read-only: start it with --write to change data');
      if (!tokenMatches(bearer(req))) throw new HttpError(401, 'UNAUTHORIZED', 'a write needs the token in the Authorization header');
      if (!origins.includes(req.headers.origin ?? '')) throw new HttpError(403, 'ORIGIN', 'a write must come from the studio page itself');
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'CONTENT_TYPE', 'a write sends JSON');
      const body = await readJson(req);
      return json(res, 200, await route(options.store, body));
    }
    throw new HttpError(405, 'METHOD', `method ${req.method ?? ''} not allowed`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) return fail(res, error.status, error.code, error.message);
      if (error instanceof ConvostoreError) return fail(res, STATUS[error.code] ?? 500, error.code, error.message);
      log(redact(`convostore studio: ${req.method ?? ''} ${new URL(req.url ?? '/', 'http://x').pathname}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, secrets));
      return fail(res, 500, 'INTERNAL', 'the studio failed to answer (see its terminal)');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origins = [`http://${HOST}:${port}`, `http://localhost:${port}`];
  return {
    origin: origins[0]!,
    url: `${origins[0]!}/?token=${token}`,
    token,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, 'TOO_LARGE', 'the request body is over 1 MB');
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'VALIDATION', 'the body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'VALIDATION', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}
