import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../config/package.js";
import { CurriculaError } from "../util/errors.js";

/**
 * The explorer's page: an empty shell the bundled front end (src/explore/ui/, bundled by esbuild at
 * build time into dist/explore/app.js) fills. The server links the bundle; the static copy inlines
 * it with the data, so it opens offline from a file.
 */

/** Where `npm run build` writes the bundled front end. */
export const BUNDLE_PATH = join(PACKAGE_ROOT, "dist", "explore", "app.js");

/** The bundled front end; an error saying how to build it when it is missing. */
export function readBundle(path = BUNDLE_PATH): string {
  if (!existsSync(path)) {
    throw new CurriculaError(
      `${path}: the explorer's front end is not built; run 'npm run build' in the curricula folder`,
    );
  }
  return readFileSync(path, "utf8");
}

const STYLE = `
:root { font-family: system-ui, sans-serif; font-size: 14px; color: #222; }
body { margin: 0; height: 100vh; display: flex; flex-direction: column; }
#app { flex: 1; min-height: 0; display: flex; flex-direction: column; }
header { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 8px 12px; background: #f3f4f6; border-bottom: 1px solid #ddd; }
header h1 { font-size: 16px; margin: 0 12px 0 0; }
header label { display: inline-flex; gap: 4px; align-items: center; }
#filters { display: inline-flex; flex-wrap: wrap; gap: 6px 14px; }
#status { color: #555; }
#files { font-size: 12px; color: #555; }
main { flex: 1; min-height: 0; display: grid; grid-template-columns: minmax(0, 1fr) 440px; }
#left { display: flex; flex-direction: column; min-width: 0; min-height: 0; }
#tabs { display: flex; gap: 4px; padding: 4px 8px; }
#tabs button[aria-selected="true"] { font-weight: bold; }
#table-view { flex: 1; overflow: auto; position: relative; }
#table-head, .row { display: grid; align-items: center; white-space: nowrap; }
#table-head { position: sticky; top: 0; background: #fff; z-index: 1; border-bottom: 2px solid #ccc; font-weight: 600; }
#table-head > div { cursor: pointer; padding: 4px; overflow: hidden; text-overflow: ellipsis; }
#table-head > div[aria-sort="ascending"]::after { content: " ▲"; }
#table-head > div[aria-sort="descending"]::after { content: " ▼"; }
.row { position: absolute; left: 0; right: 0; border-bottom: 1px solid #eee; cursor: pointer; }
.row > div { padding: 0 4px; overflow: hidden; text-overflow: ellipsis; }
.row[aria-selected="true"] { background: #dbeafe; }
.row img, #sample img { image-rendering: pixelated; }
.row img { height: 32px; width: auto; display: block; }
.tag-mislabelled { color: #b91c1c; font-weight: 600; }
.tag-ambiguous { color: #b45309; font-weight: 600; }
.tag-relabel { color: #1d4ed8; font-weight: 600; }
#sample { border-left: 1px solid #ddd; overflow: auto; padding: 8px 12px; }
#sample img { width: 224px; height: auto; border: 1px solid #ccc; }
#sample-neighbours ol { list-style: none; margin: 4px 0; padding: 0; }
.neighbour { display: flex; align-items: center; gap: 8px; padding: 2px 4px; cursor: pointer; border-bottom: 1px solid #eee; }
.neighbour:hover, .neighbour:focus { background: #eef4ff; }
#sample .neighbour img { width: 32px; height: 32px; }
.neighbour-label { font-weight: bold; min-width: 3em; }
.neighbour-detail { color: #555; font-size: 12px; }
#sample table { border-collapse: collapse; margin: 6px 0; }
#sample td, #sample th { border-bottom: 1px solid #eee; padding: 2px 6px; text-align: left; max-width: 220px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#map-view { flex: 1; overflow: auto; padding: 8px; }
#problems { color: #92400e; font-size: 12px; padding: 0 12px; }
.keys { color: #555; font-size: 12px; overflow-wrap: anywhere; }
`;

/**
 * The page. `script` is the bundle's URL (server) or its text (static copy, inlined); `data` is the
 * JSON the static copy embeds (its `<` written as \\u003c so no text of it can close the element).
 */
export function explorePage(options: {
  title: string;
  scriptUrl?: string;
  bundle?: string;
  data?: string;
  /** A URL the page will fetch, requested while its script still loads (the server's table). */
  preload?: string;
}): string {
  const escapeText = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const data =
    options.data === undefined
      ? ""
      : `<script id="explore-data" type="application/json">${options.data.replace(/</g, "\\u003c")}</script>\n`;
  const script =
    options.bundle !== undefined
      ? `<script>${options.bundle.replace(/<\/script/gi, "<\\/script")}</script>`
      : `<script src="${escapeText(options.scriptUrl ?? "/app.js")}"></script>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeText(options.title)}</title>
<style>${STYLE}</style>
${options.preload === undefined ? "" : `<link rel="preload" href="${escapeText(options.preload)}" as="fetch" crossorigin="anonymous">\n`}</head>
<body>
<div id="app">Loading…</div>
${data}${script}
</body>
</html>
`;
}
