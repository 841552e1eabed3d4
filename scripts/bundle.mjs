/**
 * Second step of `npm run build`, after tsc (which stays the type checker and writes the .d.ts
 * files): every public entry (package.json's `exports` and `bin`, and the modules the entries load by
 * path at run time) is bundled by esbuild from the sources into the very file tsc wrote, the code
 * entries share goes to a few chunks, and tsc's other .js files are removed.
 *
 * Why: Node resolves, reads and links each ES module on its own, about a millisecond apiece here;
 * the root entry was 20 modules (docs/bench.md, cold start). Dynamic imports stay dynamic, so
 * `openStorage` still loads only the backend its URL names, and packages stay external: the drivers
 * are optional peers, resolved from the user's node_modules.
 *
 * esbuild makes one chunk per set of entries sharing a module, and every entry (or dynamically
 * imported module) that reaches a different subset of the root's modules would cut them into more
 * files. So each Node entry but the root, and each module loaded by a dynamic import, is built as
 * "the root entry, plus this module's exports" (a virtual module): all of them then reach all of the
 * root's modules, which land in one or two chunks, and `openStorage`'s dynamic imports point at the
 * entry files themselves. The edge entry (`libsql/web`), the schema and the Drizzle instances are
 * built plainly: they must not reach the root's Node-only parts (none of them has a dynamic import).
 */
import { build } from 'esbuild';
import { chmodSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

/** Every `import` target of the exports map (conditions included). */
function targets(node, out = new Set()) {
  if (typeof node === 'string') {
    if (node.endsWith('.js')) out.add(node);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) if (key !== 'types') targets(value, out);
  }
  return out;
}

/** ./dist/src/a/b.js → src/a/b.ts */
const source = (output) => output.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts');
const ROOT = 'src/index.ts';
// Built plainly (see above). The Drizzle instances behind store.db are loaded by path (a synchronous
// require beside their backend's entry).
const PLAIN = ['src/libsql/web.ts', 'drizzle/schema.ts', 'src/sqlite/orm.ts', 'src/libsql/orm.ts'];

const entries = [
  ...new Set([...[...targets(pkg.exports)].map(source), ...Object.values(pkg.bin).map(source), 'src/sqlite/orm.ts', 'src/libsql/orm.ts']),
];
const withRoot = new Set(entries.filter((f) => f !== ROOT && !PLAIN.includes(f)).map((f) => resolve(f)));

/**
 * `hub:FILE` is "import the root entry; export * from FILE". Entries of `withRoot` are built from it,
 * and imports of them, and every dynamic import of a module of ours, resolve to it.
 */
const hub = {
  name: 'hub',
  setup(b) {
    b.onResolve({ filter: /^hub:/ }, (args) => ({ path: args.path.slice(4), namespace: 'hub' }));
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.namespace === 'hub') return undefined;
      const path = resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      return withRoot.has(path) || args.kind === 'dynamic-import' ? { path, namespace: 'hub' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'hub' }, (args) => ({
      contents: `import ${JSON.stringify(resolve(ROOT))};\nexport * from ${JSON.stringify(args.path)};\n`,
      resolveDir: process.cwd(),
      loader: 'js',
    }));
  },
};

async function bundle(entryPoints, chunks, plugins = []) {
  const result = await build({
    entryPoints,
    outdir: 'dist',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    chunkNames: `src/${chunks}/[name]-[hash]`,
    metafile: true,
    logLevel: 'warning',
    plugins,
  });
  return Object.keys(result.metafile.outputs).map((f) => relative('.', f));
}

const out = (file) => file.replace(/\.ts$/, '');
const written = new Set(await bundle(entries.map((f) => ({ in: withRoot.has(resolve(f)) ? `hub:${resolve(f)}` : f, out: out(f) })), 'chunks', [hub]));

// The studio's page (`convostore studio`): one script for the browser, with the options its dev-mode
// loader uses (src/studio/assets.ts, read here from tsc's output, which is still in place).
const { PAGE_BUILD } = await import(new URL('../dist/src/studio/assets.js', import.meta.url).href);
await build({ ...PAGE_BUILD, entryPoints: ['src/studio/page/main.ts'], outfile: 'dist/src/studio/page.js' });
written.add(join('dist', 'src', 'studio', 'page.js'));

// tsc's .js files that are not an entry now would be a second copy of every class (two ConvostoreErrors
// that fail each other's instanceof) if anything reached them: remove them; the .d.ts files stay.
function prune(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) prune(path);
    else if (path.endsWith('.js') && !written.has(path)) rmSync(path);
  }
}
prune('dist');

// The bin's `#!` line stays with its source module, which is no longer the entry's first line.
for (const bin of Object.values(pkg.bin)) {
  const text = readFileSync(bin, 'utf8');
  if (!text.startsWith('#!')) writeFileSync(bin, `#!/usr/bin/env node\n${text}`);
  chmodSync(bin, 0o755);
}
// stderr: `npm pack --json` prints its JSON on stdout after prepack (this build) has run.
console.error(`bundled ${entries.length} entries into ${written.size} files`);
