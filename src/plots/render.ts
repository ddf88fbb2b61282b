import { existsSync, readdirSync } from "node:fs";
import { Resvg, type ResvgRenderOptions } from "@resvg/resvg-js";
import { parse as parseVega, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { writeFileAtomic } from "../util/atomic.js";
import { CurriculaError } from "../util/errors.js";

/** A vega-lite specification (what every chart builder returns). */
export type VegaLiteSpec = TopLevelSpec;

/**
 * Font families tried for text in PNGs, in order. resvg has no built-in font: it needs a font file
 * on disk, so we point it at the system fonts and name common Debian families (fonts-dejavu-core,
 * fonts-liberation). Vega writes `font-family="sans-serif"`, which resvg maps to the first of these
 * it finds.
 */
const PREFERRED_FAMILIES = ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans"];
const FONT_DIRS = [
  "/usr/share/fonts",
  "/usr/local/share/fonts",
  "/System/Library/Fonts",
  "C:\\Windows\\Fonts",
];

/** The font family used by charts; the SVG keeps a generic fallback so browsers pick their own. */
export const CHART_FONT = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif";

let resvgFontOptions: ResvgRenderOptions["font"] | undefined;

/** Font options for resvg, computed once: system fonts plus any existing font folder. */
function fontOptions(): ResvgRenderOptions["font"] {
  if (resvgFontOptions) return resvgFontOptions;
  const fontDirs = FONT_DIRS.filter((dir) => {
    try {
      return existsSync(dir) && readdirSync(dir).length > 0;
    } catch {
      return false;
    }
  });
  resvgFontOptions = {
    loadSystemFonts: true,
    fontDirs,
    defaultFontFamily: PREFERRED_FAMILIES[0],
    sansSerifFamily: PREFERRED_FAMILIES[0],
  };
  return resvgFontOptions;
}

/**
 * Compiles a vega-lite spec and renders it headless to an SVG string. Uses vega's `renderer: "none"`
 * view, so no browser or canvas is needed (text widths are estimated).
 */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  let view: View | undefined;
  try {
    const vegaSpec = compile(spec).spec;
    view = new View(parseVega(vegaSpec), { renderer: "none" });
    return await view.toSVG();
  } catch (error) {
    throw new CurriculaError(`cannot render plot "${titleOf(spec)}": ${(error as Error).message}`);
  } finally {
    view?.finalize();
  }
}

/** Rasterises an SVG to PNG bytes with resvg (white background, `scale` × the SVG's pixel size). */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const resvg = new Resvg(svg, {
    font: fontOptions(),
    fitTo: { mode: "zoom", value: scale },
    background: "white",
  });
  return new Uint8Array(resvg.render().asPng());
}

/**
 * Renders a vega-lite spec to `<basePath>.svg` and `<basePath>.png` (each written atomically, parent
 * folders created) and returns both paths.
 */
export async function renderPlot(
  spec: VegaLiteSpec,
  basePath: string,
): Promise<{ svg: string; png: string }> {
  const svgText = await renderSvg(spec);
  const png = svgToPng(svgText);
  const paths = { svg: `${basePath}.svg`, png: `${basePath}.png` };
  await writeFileAtomic(paths.svg, svgText);
  await writeFileAtomic(paths.png, png);
  return paths;
}

function titleOf(spec: VegaLiteSpec): string {
  const title = (spec as { title?: unknown }).title;
  if (typeof title === "string") return title;
  if (title && typeof title === "object" && "text" in title) return String((title as { text: unknown }).text);
  return "untitled";
}
