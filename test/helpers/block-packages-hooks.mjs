import { appendFileSync } from 'node:fs';

let blocked = [];
let log;

export function initialize(data) {
  blocked = data.blocked;
  log = data.log;
}

export async function resolve(specifier, context, next) {
  const bare = !/^(\.|\/|node:|file:|data:)/.test(specifier);
  if (bare && log) appendFileSync(log, `${specifier}\n`);
  if (blocked.some((name) => specifier === name || specifier.startsWith(`${name}/`))) {
    const error = new Error(`Cannot find package '${specifier}' (blocked by test/helpers/block-packages.mjs)`);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}
