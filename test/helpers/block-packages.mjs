// `node --import ./test/helpers/block-packages.mjs` with BLOCK_PACKAGES=a,b: makes those packages (and
// their subpaths) impossible to import or require, as in an app that did not install them. Every bare
// specifier resolved is appended to the file RESOLVED_LOG names, when set.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const blocked = (process.env.BLOCK_PACKAGES ?? '').split(',').filter(Boolean);
const log = process.env.RESOLVED_LOG;

// ES module imports: resolve hooks (they run off the main thread).
register('./block-packages-hooks.mjs', import.meta.url, { data: { blocked, log } });

// CommonJS require (convostore requires better-sqlite3): Node 20's hooks above do not see it, so
// the same through the CommonJS resolver, with Node's own message and code for a missing module.
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const bare = !/^(\.|\/|node:|file:|data:)/.test(request) && !Module.isBuiltin(request);
  if (bare && log) appendFileSync(log, `${request}\n`);
  if (blocked.some((name) => request === name || request.startsWith(`${name}/`))) {
    const error = new Error(`Cannot find module '${request}' (blocked by test/helpers/block-packages.mjs)`);
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return resolveFilename.call(this, request, ...rest);
};
