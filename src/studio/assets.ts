/**
 * The page's three files. The HTML and CSS are small and live here as strings (the package ships
 * only .js files from dist); the script is the browser bundle of src/studio/page/, which
 * `npm run build` writes to dist/src/studio/page.js. Run from the sources (tsx), or from a build made
 * by tsc alone (the tests' `ensureBuilt`), the page is bundled on the fly by esbuild, a dev dependency:
 * a checkout always serves the page of its current sources.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root: the first folder upwards holding convostore's package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'convostore') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('convostore studio: cannot find the package root (package.json) above its module');
    dir = up;
  }
}

let script: Promise<string> | undefined;

/** The page's script, read or bundled once per process. */
export function pageScript(): Promise<string> {
  script ??= (async () => {
    const root = packageRoot();
    const built = join(root, 'dist/src/studio/page.js');
    const fromSources = import.meta.url.endsWith('.ts');
    if (!fromSources && existsSync(built)) return readFileSync(built, 'utf8');
    const source = join(root, 'src/studio/page/main.ts');
    if (!existsSync(source)) throw new Error(`convostore studio: the page is not built (${built} is missing)`);
    // A dev checkout: esbuild is a dev dependency. The options are the build's (scripts/bundle.mjs).
    const { build } = await import('esbuild');
    const result = await build({ ...PAGE_BUILD, entryPoints: [source], write: false });
    return result.outputFiles[0]!.text;
  })();
  return script;
}

/** esbuild options of the page bundle, shared with scripts/bundle.mjs. */
export const PAGE_BUILD = {
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
} as const;

/** The token is base64url, so it needs no escaping inside the attribute values. */
export function pageHtml(token: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>convostore studio</title>
<link rel="stylesheet" href="/studio.css?token=${token}">
<script defer src="/studio.js?token=${token}"></script>
</head>
<body><noscript>convostore studio needs JavaScript.</noscript></body>
</html>
`;
}

export const STYLE: string = `
:root {
  color-scheme: light dark;
  --bg: #f7f7f8; --panel: #ffffff; --text: #1c1c1f; --muted: #62626b; --line: #dcdce2;
  --accent: #2457c5; --focus: #ff9f1a; --bubble: #ffffff; --user: #e8f0ff; --system: #fff6dd; --tool: #eef7ee;
  --danger: #b42318; --mark: #ffe58a;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #151518; --panel: #1d1d21; --text: #e7e7ea; --muted: #a1a1aa; --line: #33333a;
    --accent: #8fb0ff; --bubble: #232328; --user: #1f2b44; --system: #3a321b; --tool: #1d3321;
    --danger: #ff8a80; --mark: #6b5a00;
  }
}
* { box-sizing: border-box; }
.agent-colour { --agent: hsl(var(--agent-h) 65% 40%); }
@media (prefers-color-scheme: dark) { .agent-colour { --agent: hsl(var(--agent-h) 80% 72%); } }
html, body { height: 100%; margin: 0; background: var(--bg); color: var(--text); }
body { display: grid; grid-template-columns: 300px 1fr; grid-template-rows: auto 1fr; }
header.top { grid-column: 1 / 3; display: flex; gap: 12px; align-items: baseline; padding: 8px 14px; border-bottom: 1px solid var(--line); background: var(--panel); }
header.top h1 { font-size: 15px; margin: 0; }
header.top .source { color: var(--muted); font-family: ui-monospace, monospace; font-size: 12px; overflow-wrap: anywhere; }
header.top .mode { margin-left: auto; font-size: 12px; padding: 1px 8px; border-radius: 10px; border: 1px solid var(--line); }
header.top .mode.write { color: var(--danger); border-color: var(--danger); }
nav.side { overflow: auto; border-right: 1px solid var(--line); background: var(--panel); padding: 8px; min-height: 0; }
nav.side h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 10px 4px 4px; }
nav.side ul { list-style: none; margin: 0; padding: 0; }
nav.side li button { width: 100%; text-align: left; background: none; border: 0; border-radius: 6px; padding: 6px 8px; color: inherit; font: inherit; cursor: pointer; display: block; }
nav.side li button:hover { background: var(--bg); }
nav.side li button[aria-current="true"] { background: var(--user); }
nav.side .meta { display: block; color: var(--muted); font-size: 12px; }
nav.side .more { margin: 6px 4px; }
main { display: flex; flex-direction: column; min-height: 0; min-width: 0; }
.toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 8px 14px; border-bottom: 1px solid var(--line); background: var(--panel); }
.toolbar h2 { font-size: 16px; margin: 0 8px 0 0; overflow-wrap: anywhere; }
.toolbar .agents { display: flex; gap: 6px; flex-wrap: wrap; }
.toolbar label.agent { display: inline-flex; gap: 4px; align-items: center; font-size: 12px; padding: 1px 8px 1px 4px; border-radius: 10px; border: 1px solid var(--agent, var(--line)); }
input, button, textarea { font: inherit; color: inherit; }
input[type="search"], input[type="text"], textarea { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 4px 8px; }
button { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 3px 10px; cursor: pointer; }
button.danger { color: var(--danger); border-color: var(--danger); }
:focus-visible { outline: 2px solid var(--focus); outline-offset: 1px; }
.messages { flex: 1; overflow: auto; padding: 12px 14px; min-height: 0; }
.empty { color: var(--muted); padding: 24px; }
.status { color: var(--muted); font-size: 12px; text-align: center; padding: 6px; }
article.message { background: var(--bubble); border: 1px solid var(--line); border-left: 4px solid var(--agent, var(--line)); border-radius: 8px; padding: 6px 10px; margin: 0 0 8px; max-width: 920px; }
article.message.role-user { background: var(--user); margin-left: 60px; }
article.message.role-system { background: var(--system); }
article.message.role-tool { background: var(--tool); }
article.message.target { outline: 2px solid var(--focus); }
article.message header { display: flex; flex-wrap: wrap; gap: 8px; align-items: baseline; font-size: 12px; color: var(--muted); }
article.message header .role { font-weight: 600; color: var(--text); text-transform: uppercase; font-size: 11px; letter-spacing: .04em; }
article.message header .agent { color: var(--agent); font-weight: 600; }
article.message header .id { font-family: ui-monospace, monospace; }
article.message header .actions { margin-left: auto; display: flex; gap: 4px; }
article.message header .actions button { font-size: 11px; padding: 0 6px; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; margin: 4px 0; }
details.block { margin: 4px 0; border: 1px solid var(--line); border-radius: 6px; padding: 2px 8px; }
details.block summary { cursor: pointer; font-size: 12px; color: var(--muted); }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; margin: 4px 0; }
img.block { max-width: 360px; max-height: 360px; border-radius: 6px; display: block; margin: 4px 0; }
.hidden { display: none !important; }
dialog { background: var(--panel); color: var(--text); border: 1px solid var(--line); border-radius: 8px; max-width: 560px; }
dialog textarea { width: 100%; min-height: 140px; font-family: ui-monospace, monospace; }
dialog .buttons { display: flex; gap: 8px; justify-content: flex-end; margin-top: 10px; }
.toast { position: fixed; bottom: 12px; right: 12px; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; }
.toast.error { color: var(--danger); border-color: var(--danger); }
`;
