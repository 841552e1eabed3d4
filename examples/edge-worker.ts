/**
 * A Cloudflare Worker (or any runtime without native modules and Node built-ins) keeping chat history
 * in Turso through `convostore/libsql`, which resolves to the web entry under the `workerd`, `worker`,
 * `edge-light`, `browser` and `deno` conditions. In an app: `import { openLibsql } from 'convostore/libsql'`.
 * Bindings: LIBSQL_URL (libsql://…, https://…) and LIBSQL_TOKEN. The database is migrated from Node
 * beforehand (`npx convostore migrate --url …`). test/edge-worker.test.ts bundles this with esbuild
 * and runs it in workerd.
 */
import { openLibsql } from '../src/libsql/web.js';

interface Env {
  LIBSQL_URL: string;
  LIBSQL_TOKEN?: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const userId = new URL(request.url).searchParams.get('user') ?? 'ada';
    const store = await openLibsql(env.LIBSQL_URL, { authToken: env.LIBSQL_TOKEN, logger: null });
    try {
      await store.saveChatMessage(userId, 'edge-1', 'tech-agent', { role: 'user', content: 'Does this run at the edge?' });
      const window = await store.saveChatMessage(userId, 'edge-1', 'tech-agent', { role: 'assistant', content: 'Yes: no native module, no node: import.' }, 2);
      const history = await store.fetchChat(userId, 'edge-1', 'tech-agent');
      const sessions = await store.listSessions(userId);
      return Response.json({ runtime: navigator.userAgent, window, history, sessions });
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    } finally {
      await store.close();
    }
  },
};
