import { note } from "../../plots/html.js";
import type { RunGroup } from "../collect.js";
import type { Figures, ReportSection } from "../context.js";
import { byTrainingType, metricChart, typeSuffix } from "./shared.js";

const LOSS_COLUMNS = ["dev_loss", "train_loss"];

async function trainingBody(groups: RunGroup[], tracking: string, figs: Figures): Promise<string> {
  const withMetrics = groups.filter((g) => g.runs.some((r) => r.metrics));
  if (withMetrics.length === 0) {
    return note("No finished training runs (no training/<run>/metrics.csv).");
  }
  const figures: string[] = [];
  const parts2 = byTrainingType(withMetrics);
  const split = parts2.length > 1;
  for (const { type, groups: same } of parts2) {
    for (const column of [tracking, ...LOSS_COLUMNS]) {
      const title = `${column === tracking ? `Dev ${tracking}` : column.replace("_", " ")}${typeSuffix(type, split)}`;
      const spec = metricChart(same, column, title, 520, type);
      if (spec)
        figures.push(
          await figs.render(
            spec,
            `${title} per evaluation (x: ${type}s); colour = condition, one line per seed.`,
          ),
        );
    }
  }
  const unfinished = groups.flatMap((g) => g.runs).filter((r) => !r.finished);
  const parts = [`<div class="row">${figures.join("\n")}</div>`];
  if (figures.length === 0)
    parts.push(
      note(`metrics.csv has none of the columns ${[tracking, ...LOSS_COLUMNS].join(", ")}.`, "warn"),
    );
  if (unfinished.length > 0) {
    parts.push(
      note(
        `${unfinished.length} run(s) not finished (no metrics.csv): ${unfinished.map((r) => r.name).join(", ")}.`,
        "warn",
      ),
    );
  }
  return parts.join("\n");
}

/** Training curves per condition. */
export const trainingSection: ReportSection = {
  id: "training",
  title: "Training curves",
  nav: "Training curves",
  build: (ctx) => trainingBody(ctx.groups, ctx.tracking, ctx.figs),
};
