/**
 * The timeline as one self-contained HTML page: the document as JSON, the
 * page's script bundled with uPlot by esbuild when the page is written (no
 * build step; a few hundred milliseconds), and uPlot's stylesheet, all inline.
 * A Content-Security-Policy forbids the page any request: it opens offline.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { TimelineDocument } from '#core/restore/timeline.ts';

let bundled: Promise<string> | undefined;

/** page.ts and uPlot as one browser script (built once per process). */
export function pageScript(): Promise<string> {
  bundled ??= build({
    entryPoints: [join(__dirname, 'browser', 'page.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    legalComments: 'inline',
    logLevel: 'silent',
  }).then((result) => result.outputFiles[0]!.text);
  return bundled;
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #0f172a; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; word-break: break-all; }
h2 { font-size: 16px; margin: 20px 0 8px; }
.hint, #rule { color: #475569; font-size: 12px; }
#selection { border: 1px solid #cbd5e1; border-radius: 6px; padding: 8px 14px; margin-top: 12px; background: #f8fafc; }
#restore-command { display: block; font: 13px ui-monospace, monospace; background: #0f172a; color: #e2e8f0; padding: 8px 10px; border-radius: 4px; white-space: pre-wrap; word-break: break-all; }
#restore-totals { display: flex; gap: 24px; flex-wrap: wrap; }
table.totals caption { text-align: left; font-weight: 600; padding: 6px 0; white-space: nowrap; }
table.totals td { padding: 1px 12px 1px 0; }
table.totals td[data-total] { text-align: right; font-variant-numeric: tabular-nums; }
#burst-list button { font: inherit; cursor: pointer; }
button { border: 1px solid #94a3b8; background: #fff; border-radius: 4px; padding: 2px 8px; }
`;

/** `<` escaped, so the JSON can't close its script element. */
const inlineJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
const inlineScript = (code: string) => code.replace(/<\/(script)/gi, '<\\/$1');

export async function renderTimelinePage(doc: TimelineDocument): Promise<string> {
  const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  const script = await pageScript();
  const title = `s3-rewind timeline: ${doc.uri}`.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${title}</title>
<style>${uplotCss}${STYLE}</style>
</head>
<body>
<header>
<h1 id="title"></h1>
<p id="summary"></p>
</header>
<main>
<div id="chart"></div>
<p class="hint">Drag to zoom in, wheel to zoom around the cursor, shift+drag to pan, <button type="button" id="reset-zoom">reset zoom</button>. Click a moment, or a shaded burst, for its restore command.</p>
<section id="selection" hidden>
<h2 id="selection-title"></h2>
<code id="restore-command"></code>
<p><button type="button" id="copy">copy the command</button></p>
<div id="restore-totals"></div>
</section>
<h2>Bursts</h2>
<ul id="burst-list"></ul>
<p id="rule"></p>
</main>
<script type="application/json" id="timeline-data">${inlineJson(doc)}</script>
<script>${inlineScript(script)}</script>
</body>
</html>
`;
}
