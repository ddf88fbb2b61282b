import type { RunConfig } from "../../config/schema.js";
import type { Dataset } from "../../data/types.js";
import { heatmap } from "../../plots/charts.js";
import { escapeHtml, note, table } from "../../plots/html.js";
import { confusionMatrix, perClassMetrics } from "../../training/metrics.js";
import type { RunData, RunGroup } from "../collect.js";
import type { DatasetLoader, Figures, ReportSection } from "../context.js";
import { cachedDataset, conditionBadge } from "./shared.js";

/** Class names of a group's dataset (rebuilt with the loader), else the class codes. */
async function classNamesFor(
  group: RunGroup,
  numClasses: number,
  loader: DatasetLoader,
  cache: Map<string, Promise<Dataset>>,
): Promise<string[]> {
  const config = group.runs.find((r) => r.config)?.config as RunConfig | undefined;
  const codes = Array.from({ length: numClasses }, (_, c) => String(c));
  if (!config?.dataset) return codes;
  try {
    const dataset = await cachedDataset(config, loader, cache);
    return dataset.classNames.length === numClasses ? [...dataset.classNames] : codes;
  } catch {
    return codes;
  }
}

/**
 * Per condition: the confusion matrix of the test predictions pooled over seeds (row-normalised:
 * each row is a true class, each cell the share predicted as the column's class) and per-class
 * precision, recall, F1 and support.
 */
async function classesBody(
  groups: RunGroup[],
  figs: Figures,
  loader: DatasetLoader,
  cache: Map<string, Promise<Dataset>>,
): Promise<string> {
  const withOutputs = groups.filter((g) => g.runs.some((r) => r.testOutputs));
  if (withOutputs.length === 0) {
    return note(
      "No test outputs (training/<run>/_test/test_outputs.npy; runs write them with save_test_outputs).",
    );
  }
  const parts: string[] = [
    `<p class="lead">Test predictions of the best checkpoint, pooled over the seeds of each condition.</p>`,
  ];
  for (const group of withOutputs) {
    const runs = group.runs.filter((r) => r.testOutputs);
    const c = Math.max(...runs.map((r) => r.testOutputs?.numClasses ?? 0));
    const confusion = new Float64Array(c * c);
    for (const run of runs) {
      const out = run.testOutputs as NonNullable<RunData["testOutputs"]>;
      const m = confusionMatrix(out.predictions, out.targets, c);
      for (let i = 0; i < m.length; i++) confusion[i] = (confusion[i] as number) + (m[i] as number);
    }
    const names = await classNamesFor(group, c, loader, cache);
    const rows = Array.from({ length: c }, (_, i) => {
      const row = confusion.subarray(i * c, (i + 1) * c);
      const total = row.reduce((a, b) => a + b, 0);
      return Array.from(row, (v) => (total > 0 ? v / total : Number.NaN));
    });
    const heat = await figs.render(
      heatmap({
        matrix: rows,
        labels: names,
        title: `${group.label}: confusion matrix`,
        format: ".0%",
        domain: [0, 1],
        scheme: "blues",
        cellSize: Math.max(16, Math.min(44, 520 / c)),
        annotate: c <= 15,
        xTitle: "predicted class",
        yTitle: "true class",
      }),
      `Rows: true class; cells: share of its test samples predicted as the column's class (${runs.length} seed(s) pooled).`,
    );
    const metrics = perClassMetrics(confusion, c);
    const tableRows = metrics.map((m, i) => [
      names[i] ?? String(i),
      { html: m.precision.toFixed(4), className: "num" },
      { html: m.recall.toFixed(4), className: "num" },
      { html: m.f1.toFixed(4), className: "num" },
      { html: String(m.support), className: "num" },
    ]);
    parts.push(
      `<details class="classes" open><summary>${conditionBadge(group.condition)} ${escapeHtml(group.label)}</summary>` +
        `<div class="row">${heat}\n${table(["class", "precision", "recall", "f1", "support"], tableRows, "metrics")}</div></details>`,
    );
  }
  return parts.join("\n");
}

/** Per-class test results: confusion matrices and per-class metrics. */
export const classesSection: ReportSection = {
  id: "classes",
  title: "Per-class test results",
  nav: "Per class",
  build: (ctx) => classesBody(ctx.groups, ctx.figs, ctx.loader, ctx.datasets),
};
