// `node --import ./test/helpers/block-packages.mjs` with BLOCK_PACKAGES=a,b: makes those packages (and
// their subpaths) impossible to import, as in an app that did not install them. Every bare specifier
// resolved is appended to the file RESOLVED_LOG names, when set.
import { register } from 'node:module';

register('./block-packages-hooks.mjs', import.meta.url, {
  data: { blocked: (process.env.BLOCK_PACKAGES ?? '').split(',').filter(Boolean), log: process.env.RESOLVED_LOG },
});
