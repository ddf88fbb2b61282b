import { isLoss } from "../../config/schema.js";
import { barChart } from "../../plots/charts.js";
import { escapeHtml, note, type TableCell, table } from "../../plots/html.js";
import { meanStd } from "../../plots/stats.js";
import { CONDITIONS, type RunGroup, sharedSettings } from "../collect.js";
import type { Figures, ReportSection } from "../context.js";
import { conditionBadge, formatMeanStd, orderMetrics } from "./shared.js";

/** The settings all groups share (from the run names), stated once above the comparison. */
function sharedList(groups: readonly RunGroup[]): string {
  const shared = sharedSettings(groups);
  if (shared.length === 0) return "";
  const items = shared
    .map(
      ([k, v]) => `<span class="setting"><span class="key">${escapeHtml(k)}</span> ${escapeHtml(v)}</span>`,
    )
    .join(" ");
  return `<p class="shared"><strong>Shared by all runs</strong> (curriculum settings: by all curriculum runs): ${items}</p>`;
}

async function comparisonBody(groups: RunGroup[], tracking: string, figs: Figures): Promise<string> {
  const tested = groups.filter((g) => g.runs.some((r) => r.test));
  if (tested.length === 0) {
    return note(
      "No test results yet: no run has _test/test_holistic.yaml (runs write it when training finishes).",
    );
  }
  const metrics = orderMetrics(
    tested.flatMap((g) => g.runs.flatMap((r) => Object.keys(r.test ?? {}))),
    tracking,
  );
  const means = new Map<string, number[]>();
  for (const metric of metrics) {
    means.set(
      metric,
      tested.map(
        (g) =>
          meanStd(g.runs.flatMap((r) => (r.test && metric in r.test ? [r.test[metric] as number] : []))).mean,
      ),
    );
  }
  const rows = tested.map((g, gi) => {
    const seeds = g.runs.filter((r) => r.test).length;
    const cells: (string | TableCell)[] = [
      { html: conditionBadge(g.condition) },
      g.label,
      { html: String(seeds), className: "num" },
    ];
    for (const metric of metrics) {
      const values = g.runs.flatMap((r) => (r.test && metric in r.test ? [r.test[metric] as number] : []));
      const column = (means.get(metric) as number[]).filter(Number.isFinite);
      const mine = (means.get(metric) as number[])[gi] as number;
      const best = isLoss(metric) ? Math.min(...column) : Math.max(...column);
      const isBest = tested.length > 1 && Number.isFinite(mine) && mine === best;
      cells.push({ html: escapeHtml(formatMeanStd(values)), className: isBest ? "num best" : "num" });
    }
    return cells;
  });
  // The orderings and the baseline a comparison expects (a dynamic sampler is an extra, not a gap).
  const missing = CONDITIONS.filter((c) => c !== "Dynamic" && !tested.some((g) => g.condition === c));
  const parts = [
    `<p class="lead">Test metrics of the best checkpoint, mean ± sample std over seeds; the best value of each column is bold.</p>`,
    sharedList(groups),
    table(["condition", "group", "seeds", ...metrics.map((m) => `test ${m}`)], rows, "metrics"),
  ];
  if (missing.length > 0) parts.push(note(`Not in this experiment: ${missing.join(", ")}.`));
  const barData = tested.flatMap((g) =>
    g.runs.flatMap((r) =>
      r.test && tracking in r.test ? [{ x: g.label, value: r.test[tracking] as number }] : [],
    ),
  );
  if (barData.length > 0) {
    parts.push(
      await figs.render(
        barChart({
          data: barData,
          title: `Test ${tracking} (mean ± std over seeds)`,
          yTitle: tracking,
          xColors: Object.fromEntries(tested.map((g) => [g.label, g.color])),
        }),
        `Test ${tracking} per condition; error bars show ± one sample standard deviation over seeds.`,
      ),
    );
  }
  return parts.join("\n");
}

/** The test metrics of every condition, side by side. */
export const comparisonSection: ReportSection = {
  id: "comparison",
  title: "Test metrics",
  nav: "Test metrics",
  build: (ctx) => comparisonBody(ctx.groups, ctx.tracking, ctx.figs),
};
