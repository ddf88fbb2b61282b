import type { Dataset, Subset, SubsetName } from "../data/types.js";
import { sortLabels } from "../plots/charts.js";
import { escapeHtml, table } from "../plots/html.js";
import { encodePng, imageToPixels } from "../plots/png.js";
import type { ScoreData } from "./collect.js";

/**
 * The easiest and hardest samples of each class as small inline PNGs, so a reader sees what a score
 * calls "hard" (for image datasets only).
 */

/**
 * Per class (sorted), the rows of the `k` lowest and `k` highest `ranks` (0 easiest … 1 hardest).
 * Ties keep file order; a class with fewer than 2k rows shows what it has, without repeats.
 */
export function extremesPerClass(
  ranks: ArrayLike<number>,
  classes: readonly string[],
  k: number,
): { label: string; easiest: number[]; hardest: number[] }[] {
  const byClass = new Map<string, number[]>();
  for (let i = 0; i < classes.length; i++) {
    const label = classes[i] as string;
    const rows = byClass.get(label) ?? [];
    rows.push(i);
    byClass.set(label, rows);
  }
  return sortLabels(byClass.keys()).map((label) => {
    const rows = [...(byClass.get(label) as number[])].sort(
      (a, b) => (ranks[a] as number) - (ranks[b] as number) || a - b,
    );
    const easiest = rows.slice(0, Math.min(k, rows.length));
    const rest = rows.slice(easiest.length);
    const hardest = rest.slice(Math.max(0, rest.length - k)).reverse();
    return { label, easiest, hardest };
  });
}

/** The subset a score was computed on (from its card; the training subset otherwise). */
export function scoredSubset(score: ScoreData): SubsetName {
  const subset = score.card?.subset;
  return subset === "dev" || subset === "test" ? subset : "train";
}

/**
 * Checks that the score rows point at the same samples in `dataset` (position and source index);
 * returns a reason when they do not, so the report never shows the wrong images.
 */
export function alignmentProblem(score: ScoreData, dataset: Dataset): string | null {
  const subset = dataset.subset(scoredSubset(score));
  for (let i = 0; i < score.index.length; i++) {
    const position = score.index[i] as number;
    if (position < 0 || position >= subset.size) {
      return `row ${i}: index ${position} is outside the ${subset.name} subset (size ${subset.size})`;
    }
    if (subset.sourceIndex[position] !== score.sourceIndex[i]) {
      return `row ${i}: source_index ${score.sourceIndex[i]} but the dataset has ${subset.sourceIndex[position]} at index ${position}`;
    }
  }
  return null;
}

/** The sample at `position` of `subset` as a PNG at its own size (image datasets: `imageShape` is set). */
export function samplePng(dataset: Dataset, subset: Subset, position: number): Uint8Array {
  const shape = dataset.imageShape;
  if (!shape) throw new Error(`dataset '${dataset.id}' has no images`);
  const batch = subset.batch([position]);
  const { pixels, channels } = imageToPixels(batch.x, shape);
  return encodePng(pixels, shape[1], shape[0], channels);
}

function thumbnail(dataset: Dataset, score: ScoreData, row: number): string {
  const png = samplePng(dataset, dataset.subset(scoredSubset(score)), score.index[row] as number);
  const uri = `data:image/png;base64,${Buffer.from(png).toString("base64")}`;
  const value = score.mean[row] as number;
  // A dataset of files (ImageFolder) names each sample's file, as text.
  const file = dataset.sourceFiles?.[score.sourceIndex[row] as number];
  const title = `${file === undefined ? "" : `${file} · `}index ${score.index[row]} · source ${score.sourceIndex[row]} · mean ${value} · rank ${(score.ranks[row] as number).toFixed(3)}`;
  const alt = file === undefined ? `sample ${score.index[row]}` : file;
  return `<span class="thumb" title="${escapeHtml(title)}"><img alt="${escapeHtml(alt)}" src="${uri}">${escapeHtml(formatScore(value))}</span>`;
}

/** Short score caption: 3 significant digits. */
export function formatScore(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && (Math.abs(value) >= 1e4 || Math.abs(value) < 1e-3)) return value.toExponential(1);
  return Number(value.toPrecision(3)).toString();
}

/** The thumbnail table of one score: one row per class, easiest left, hardest right. */
export function thumbnailTable(score: ScoreData, dataset: Dataset, k: number): string {
  const rows = extremesPerClass(score.ranks, score.decoded, k).map(({ label, easiest, hardest }) => [
    label,
    { html: easiest.map((r) => thumbnail(dataset, score, r)).join("") },
    { html: hardest.map((r) => thumbnail(dataset, score, r)).join("") },
  ]);
  return table(["class", `easiest ${k} (score)`, `hardest ${k} (score)`], rows, "thumbs");
}
