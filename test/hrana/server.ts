/**
 * A loopback stand-in for sqld (the libSQL server behind Turso), for tests only: Hrana over HTTP,
 * JSON encoding, `/v2` and `/v3` (`GET` to probe, `POST …/pipeline` to run), backed by a real SQLite
 * file through better-sqlite3. No real sqld can be installed on these machines, so this is the part
 * that lets @libsql/client's remote code path run over real sockets. It is not a product: no
 * protobuf, no cursors, no replication, batons are random rather than signed.
 *
 * It also counts every HTTP request (round trips are the cost of a remote database) and misbehaves
 * on demand, as a real server on a real socket: 5xx answers before or after the pipeline ran, a
 * socket destroyed before or after it ran, a crash in the middle of a batch, a slow answer, and a
 * token it refuses.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { CrashError, HranaStream, toHranaError } from './executor.js';
import type { PipelineRequest, PipelineResponse, StreamResult } from './protocol.js';

export type Fault =
  /** Answer with this HTTP status before running anything. */
  | { kind: 'status'; status: number }
  /** Destroy the socket before the pipeline runs: nothing happened on the server. */
  | { kind: 'reset-before' }
  /** Run the pipeline (a write commits), then destroy the socket: the client cannot know. */
  | { kind: 'reset-after' }
  /**
   * Run the pipeline (a write commits), then answer with this HTTP status instead of its results,
   * as a proxy or load balancer in front of sqld does when its upstream answer is lost or late.
   */
  | { kind: 'status-after'; status: number }
  /** Run this many batch steps, then crash: the stream's connection closes and its transaction rolls back. */
  | { kind: 'crash-mid-batch'; afterSteps: number }
  /** Wait this long before running the pipeline and answering. */
  | { kind: 'slow'; delayMs: number };

export interface HranaServerOptions {
  /** The SQLite file to serve; it is put in WAL mode so streams read while another writes. */
  file: string;
  /** When set, every request needs `Authorization: Bearer <token>`; otherwise 401. */
  token?: string;
  /** A stream idle this long is closed (rolling back its open transaction). */
  streamIdleMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** The HTTP status answered; undefined while running, or when the socket was destroyed instead. */
  status: number | undefined;
  /** The request body as received (JSON text for a pipeline). */
  body: string;
}

export class HranaServer {
  readonly #server: Server;
  readonly #file: string;
  #token: string | undefined;
  readonly #streams = new Map<string, { stream: HranaStream; timer: NodeJS.Timeout }>();
  readonly #idleMs: number;
  readonly #anchor: Database.Database;
  /** Faults to apply to the next pipeline requests, one each, in order. */
  readonly faults: Fault[] = [];
  /** Every HTTP request received, in order. */
  readonly requests: RecordedRequest[] = [];
  #url = '';
  #running = 0;
  #idle: Array<() => void> = [];

  private constructor(options: HranaServerOptions) {
    this.#file = options.file;
    this.#token = options.token;
    this.#idleMs = options.streamIdleMs ?? 10_000;
    // Held open for the server's life: were every stream's connection the last one to close, SQLite
    // would checkpoint and delete the WAL on each request.
    this.#anchor = new Database(this.#file);
    this.#anchor.pragma('journal_mode = WAL');
    this.#server = createServer((req, res) => {
      this.#running++;
      this.#handle(req, res)
        .catch((error: unknown) => {
          if (!res.headersSent) text(res, 500, `stand-in failure: ${String(error)}`);
        })
        .finally(() => {
          if (--this.#running === 0) for (const resolve of this.#idle.splice(0)) resolve();
        });
    });
    // Node closes idle keep-alive sockets after 5 s, a hair after undici's client gives them up; on a
    // loaded machine the two race and a request meets a socket being closed (ECONNRESET). Turso's
    // front ends keep idle connections far longer, so the stand-in does too.
    this.#server.keepAliveTimeout = 65_000;
  }

  static async start(options: HranaServerOptions): Promise<HranaServer> {
    const server = new HranaServer(options);
    await new Promise<void>((resolve) => server.#server.listen(0, '127.0.0.1', resolve));
    server.#url = `http://127.0.0.1:${(server.#server.address() as AddressInfo).port}`;
    return server;
  }

  /** Rotates (or revokes) the token, as when a Turso token is invalidated. */
  set token(token: string | undefined) {
    this.#token = token;
  }

  get file(): string {
    return this.#file;
  }

  get url(): string {
    return this.#url;
  }

  get openStreams(): number {
    return this.#streams.size;
  }

  /** Pipeline requests (round trips that ran SQL) since the last `resetCount`. */
  get pipelineCount(): number {
    return this.requests.filter((r) => r.method === 'POST').length;
  }

  resetCount(): void {
    this.requests.length = 0;
  }

  /**
   * Resolves once no request is being handled: a request whose client gave up (a timeout) may still
   * be sleeping or running its pipeline here.
   */
  whenIdle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async close(): Promise<void> {
    for (const { stream, timer } of this.#streams.values()) {
      clearTimeout(timer);
      stream.close();
    }
    this.#streams.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#anchor.close();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
    const record: RecordedRequest = { method: req.method ?? '', path, status: undefined, body: '' };
    this.requests.push(record);
    res.on('finish', () => (record.status = res.statusCode));
    const body = (record.body = await readBody(req));
    if (this.#token !== undefined && req.headers.authorization !== `Bearer ${this.#token}`) {
      return text(res, 401, 'Unauthorized: the auth token is missing or wrong');
    }
    const version = /^\/v([23])(\/|$)/.exec(path)?.[1];
    if (req.method === 'GET' && (path === '/v2' || path === '/v3')) return text(res, 200, '');
    if (req.method !== 'POST' || version === undefined || !path.endsWith('/pipeline')) {
      // Includes GET /v3-protobuf: a 404 there tells @libsql/client to speak JSON.
      return text(res, 404, `not found: ${req.method} ${path}`);
    }

    const fault = this.faults.shift();
    if (fault?.kind === 'status') return text(res, fault.status, `injected HTTP ${fault.status}`);
    if (fault?.kind === 'reset-before') return void req.socket.destroy();
    if (fault?.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.delayMs));

    let pipeline: PipelineRequest;
    try {
      pipeline = JSON.parse(body) as PipelineRequest;
      if (!Array.isArray(pipeline.requests)) throw new Error('requests must be an array');
    } catch (error) {
      return json(res, 400, { message: `bad pipeline request: ${String(error)}`, code: 'HTTP_BAD_REQUEST' });
    }
    const resumed = this.#take(pipeline.baton ?? null);
    if (resumed === 'unknown') {
      return json(res, 400, { message: 'unknown or expired baton', code: 'STREAM_EXPIRED' });
    }
    const stream = resumed ?? new HranaStream(this.#file, version === '3' ? 3 : 2);
    const stopAfter = fault?.kind === 'crash-mid-batch' ? fault.afterSteps : Infinity;

    const results: StreamResult[] = [];
    let closed = false;
    try {
      for (const request of pipeline.requests) {
        if (closed) {
          results.push({ type: 'error', error: { message: 'the stream is closed', code: 'STREAM_CLOSED' } });
          continue;
        }
        try {
          const response = request.type === 'batch' ? { type: 'batch' as const, result: stream.batch(request.batch, stopAfter) } : stream.handle(request);
          results.push({ type: 'ok', response });
          closed = request.type === 'close';
        } catch (error) {
          if (error instanceof CrashError) throw error;
          results.push({ type: 'error', error: toHranaError(error) });
        }
      }
    } catch (error) {
      if (!(error instanceof CrashError)) throw error;
      stream.close();
      return void req.socket.destroy();
    }

    let baton: string | null = null;
    if (!closed) {
      baton = randomBytes(16).toString('hex');
      this.#keep(baton, stream);
    }
    if (fault?.kind === 'reset-after' || fault?.kind === 'status-after') {
      // The work is done (and committed, for a write); only the answer is lost.
      if (baton !== null) this.#take(baton);
      stream.close();
      if (fault.kind === 'status-after') return text(res, fault.status, `injected HTTP ${fault.status} after the pipeline ran`);
      return void req.socket.destroy();
    }
    const response: PipelineResponse = { baton, base_url: null, results };
    json(res, 200, response);
  }

  #keep(baton: string, stream: HranaStream): void {
    const timer = setTimeout(() => {
      this.#streams.delete(baton);
      stream.close();
    }, this.#idleMs);
    timer.unref();
    this.#streams.set(baton, { stream, timer });
  }

  /** A baton is good for one request: the next answer carries a new one. */
  #take(baton: string | null): HranaStream | null | 'unknown' {
    if (baton === null) return null;
    const entry = this.#streams.get(baton);
    if (!entry) return 'unknown';
    clearTimeout(entry.timer);
    this.#streams.delete(baton);
    return entry.stream;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
