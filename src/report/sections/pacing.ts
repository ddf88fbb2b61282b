import { lineChart } from "../../plots/charts.js";
import { note } from "../../plots/html.js";
import type { RunGroup } from "../collect.js";
import type { Figures, ReportSection } from "../context.js";
import { byTrainingType, groupLines, metricChart, trainingTypeOf, typeSuffix } from "./shared.js";

async function pacingBody(
  groups: RunGroup[],
  tracking: string,
  figs: Figures,
): Promise<string | { title: string; body: string }> {
  const paced = groups.filter((g) => g.runs.some((r) => r.pace && r.pace.length > 0));
  if (paced.length === 0) {
    return { title: "Pacing", body: note("No curriculum runs (no training/<run>/pace.csv).") };
  }
  const rows: string[] = [];
  const types = byTrainingType(paced);
  const split = types.length > 1;
  for (const { type, groups: same } of types) {
    const paceData = same.flatMap((g) =>
      g.runs.flatMap((run) =>
        (run.pace ?? []).map((p) => ({
          iteration: p.iteration,
          dataset_size: p.dataset_size,
          group: g.label,
          run: run.name,
        })),
      ),
    );
    const pace = await figs.render(
      lineChart({
        data: paceData,
        x: "iteration",
        y: "dataset_size",
        ...groupLines(same, "curriculum runs"),
        integerX: true,
        title: `Pace: training subset size${typeSuffix(type, split)}`,
        xTitle: type,
        yTitle: "dataset size",
        step: true,
        width: 400,
        height: 260,
      }),
      `Size of the training subset the sampler draws from at each ${type} (pace.csv).`,
    );
    // the dev metric of the same runs, with the baselines of the same budget and type for comparison
    const budgets = new Set(same.map((g) => g.runs[0]?.fields?.iterations));
    const baselines = groups.filter(
      (g) =>
        g.condition === "Baseline" &&
        trainingTypeOf(g) === type &&
        budgets.has(g.runs[0]?.fields?.iterations) &&
        g.runs.some((r) => r.metrics),
    );
    const spec = metricChart(
      [...same, ...baselines],
      tracking,
      `Dev ${tracking}${typeSuffix(type, split)}`,
      400,
      type,
    );
    const dev = spec
      ? await figs.render(
          spec,
          `Dev ${tracking} of the curriculum runs and the baselines with the same budget.`,
        )
      : note(`No dev ${tracking} for the curriculum runs yet.`);
    rows.push(`<div class="row">${pace}\n${dev}</div>`);
  }
  return `<p class="lead">How much of the data each curriculum run saw (left) next to how it learned (right; below on narrow screens).</p>${rows.join("\n")}`;
}

/** How much of the data each curriculum run saw, next to how it learned. */
export const pacingSection: ReportSection = {
  id: "pacing",
  title: "Pacing and dev metric",
  nav: "Pacing",
  build: (ctx) => pacingBody(ctx.groups, ctx.tracking, ctx.figs),
};
