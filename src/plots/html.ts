/**
 * HTML building blocks of the report: escaping, inline SVG figures, tables, notes and the page shell
 * with its inline stylesheet. Everything is a string, so the page is one self-contained file.
 */

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/**
 * Makes an SVG safe to inline next to others: drops any XML prolog and prefixes its ids (and the
 * `url(#…)`/`href="#…"` references to them), since ids share one namespace in an HTML page.
 */
export function inlineSvg(svg: string, prefix: string): string {
  const body = svg.replace(/^<\?xml[^>]*>\s*/, "");
  return body
    .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${prefix}-${id})`)
    .replace(/href="#([^"]+)"/g, (_m, id: string) => `href="#${prefix}-${id}"`);
}

/** A figure holding an inline SVG and a caption. */
export function figure(svg: string, caption: string, id: string): string {
  return `<figure class="chart" id="${escapeHtml(id)}">${inlineSvg(svg, id)}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

/** A note shown instead of a missing part ("no scores computed"). */
export function note(text: string, kind: "info" | "warn" = "info"): string {
  return `<p class="note ${kind}">${escapeHtml(text)}</p>`;
}

export interface TableCell {
  html: string;
  className?: string;
}

/** A table from header texts and rows of pre-rendered cells (strings are escaped). */
export function table(
  header: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | TableCell>>,
  className = "",
): string {
  const head = header.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const body = rows
    .map(
      (row) =>
        `<tr>${row
          .map((cell) =>
            typeof cell === "string"
              ? `<td>${escapeHtml(cell)}</td>`
              : `<td${cell.className ? ` class="${cell.className}"` : ""}>${cell.html}</td>`,
          )
          .join("")}</tr>`,
    )
    .join("\n");
  return `<table class="${className}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A section with an anchor id and a heading. */
export function section(id: string, title: string, content: string): string {
  return `<section id="${escapeHtml(id)}"><h2>${escapeHtml(title)}</h2>\n${content}\n</section>`;
}

const STYLE = `
:root { --fg: #1d2430; --muted: #5b6675; --line: #dde2e8; --accent: #0173b2; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; color: var(--fg); background: var(--bg); }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 20px 32px 12px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header .meta { color: var(--muted); font-size: 13px; }
nav { margin-top: 10px; display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 14px; }
nav a { color: var(--accent); text-decoration: none; }
main { max-width: 1320px; margin: 0 auto; padding: 8px 32px 48px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 24px 20px; margin: 20px 0; }
h2 { font-size: 19px; margin: 8px 0 12px; }
h3 { font-size: 16px; margin: 18px 0 8px; }
p.lead { color: var(--muted); margin-top: 0; }
.note { padding: 8px 12px; border-radius: 6px; background: #eef4fa; border-left: 4px solid var(--accent); }
.note.warn { background: #fdf3e7; border-left-color: #de8f05; }
.row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
figure.chart { margin: 8px 0; display: inline-block; max-width: 100%; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 14px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 12px; text-align: left; vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.best { font-weight: 700; }
td.run { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
.cond { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; color: #fff; }
.cond.Curriculum { background: #0173b2; } .cond.AntiCurriculum { background: #d55e00; }
.cond.RandomCurriculum { background: #029e73; } .cond.Baseline { background: #6b7280; }
details.score { border-top: 1px solid var(--line); padding: 6px 0; }
details.score > summary { cursor: pointer; font-weight: 600; font-size: 16px; padding: 6px 0; }
dl.card { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; font-size: 13px; margin: 4px 0 8px; }
dl.card dt { color: var(--muted); } dl.card dd { margin: 0; }
table.thumbs td { padding: 4px 6px; }
.thumb { display: inline-block; text-align: center; margin: 0 3px; font-size: 10px; color: var(--muted); }
.thumb img { display: block; width: 40px; height: 40px; image-rendering: pixelated; border: 1px solid var(--line); }
p.shared { font-size: 13px; line-height: 1.9; }
.setting { display: inline-block; background: #f0f2f5; border-radius: 4px; padding: 0 6px; margin-right: 4px; white-space: nowrap; }
.setting .key { color: var(--muted); }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 16px; }
`;

/** The whole page: header with navigation, sections, footer. No external resources. */
export function page(options: {
  title: string;
  meta: string;
  nav: ReadonlyArray<[string, string]>;
  sections: readonly string[];
  footer: string;
}): string {
  const nav = options.nav
    .map(([id, label]) => `<a href="#${escapeHtml(id)}">${escapeHtml(label)}</a>`)
    .join("");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(options.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${escapeHtml(options.title)}</h1><div class="meta">${options.meta}</div><nav>${nav}</nav></header>
<main>
${options.sections.join("\n")}
</main>
<footer>${options.footer}</footer>
</body>
</html>
`;
}
