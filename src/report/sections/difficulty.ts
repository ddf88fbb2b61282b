import { existsSync } from "node:fs";
import { join } from "node:path";
import { SUMMARY_FILES, summaryDir } from "../../config/layout.js";
import { lineChart } from "../../plots/charts.js";
import { escapeHtml, note, type TableCell, table } from "../../plots/html.js";
import { meanStd } from "../../plots/stats.js";
import { readDifficultyTable } from "../../results/analysis-tables.js";
import { type ExperimentData, groupRunsByCondition } from "../collect.js";
import type { RenderFigure, ReportSection } from "../context.js";
import { fmt } from "./shared.js";

/** Metrics per difficulty quantile (`summary/difficulty.csv`), per condition: table and chart. */
async function difficultyBody(
  data: ExperimentData,
  render: RenderFigure,
  problems: string[],
): Promise<string> {
  const path = join(summaryDir(data.resultsDir, data.experimentId), SUMMARY_FILES.difficulty);
  if (!existsSync(path)) {
    return note(
      "No difficulty-aware evaluation (summary/difficulty.csv); run `curricula postprocess … -d <score id>` with a score of the dev or test subset.",
    );
  }
  let csv: ReturnType<typeof readDifficultyTable>;
  try {
    csv = readDifficultyTable(path);
  } catch (error) {
    problems.push(`${path}: ${(error as Error).message}`);
    return note(`Could not read ${path}.`, "warn");
  }
  const groups = groupRunsByCondition(data.runs);
  const groupOf = new Map(groups.flatMap((g) => g.runs.map((r) => [r.name, g])));
  const tracking = data.runs.find((r) => r.config)?.trackingMetric ?? "accuracy";
  const metric = csv.metrics.includes(tracking) ? tracking : (csv.metrics[0] ?? "accuracy");
  const parts: string[] = [
    `<p class="lead">Test and dev ${escapeHtml(metric)} on the hardest 10, 25, 50 and 100% of the samples by a difficulty score of that subset (mean ± sample std over seeds). The score's runs decide what is hard, so runs that computed it look worse on its hardest samples than other runs would; compare conditions whose runs did not compute it.</p>`,
  ];
  const keys = [...new Set(csv.rows.map((r) => `${r.score}|${r.subset}`))];
  for (const key of keys) {
    const [score, subset] = key.split("|") as [string, string];
    const rows = csv.rows.filter((r) => r.score === score && r.subset === subset);
    const fractions = [...new Set(rows.map((r) => r.hardest))].sort((a, b) => a - b);
    const byGroup = new Map<string, Map<number, number[]>>();
    const chartData: Record<string, unknown>[] = [];
    for (const r of rows) {
      const g = groupOf.get(r.run_name);
      const label = g?.label ?? r.run_name;
      const m = byGroup.get(label) ?? new Map<number, number[]>();
      const f = r.hardest;
      m.set(f, [...(m.get(f) ?? []), r.metrics[metric] as number]);
      byGroup.set(label, m);
    }
    const order = groups.map((g) => g.label).filter((l) => byGroup.has(l));
    for (const label of [...byGroup.keys()]) if (!order.includes(label)) order.push(label);
    const tableRows = order.map((label) => {
      const m = byGroup.get(label) as Map<number, number[]>;
      return [
        label,
        ...fractions.map((f) => {
          const { mean, std, n } = meanStd(m.get(f) ?? []);
          chartData.push({ hardest: f * 100, value: mean, group: label });
          return { html: n > 1 ? `${fmt(mean, 4)} ± ${fmt(std, 4)}` : fmt(mean, 4), className: "num" };
        }),
      ] as (string | TableCell)[];
    });
    parts.push(
      `<h3>${escapeHtml(subset)} subset by <code>${escapeHtml(score)}</code></h3>`,
      table(["condition", ...fractions.map((f) => `hardest ${Math.round(f * 100)}%`)], tableRows, "metrics"),
      await render(
        lineChart({
          data: chartData,
          x: "hardest",
          y: "value",
          color: "group",
          colorOrder: order,
          colorRange: order.map((l) => groups.find((g) => g.label === l)?.color ?? "#777"),
          title: `${subset} ${metric} on the hardest samples by ${score}`,
          xTitle: "hardest % of samples",
          yTitle: metric,
          points: true,
          width: 420,
          height: 240,
        }),
        `${subset} ${metric} of each condition on the hardest fraction of samples by ${score}.`,
      ),
    );
  }
  return parts.join("\n");
}

/** Metrics per difficulty quantile (summary/difficulty.csv). */
export const difficultySection: ReportSection = {
  id: "difficulty",
  title: "Difficulty-aware evaluation",
  nav: "By difficulty",
  build: (ctx) => difficultyBody(ctx.data, ctx.render, ctx.problems),
};
