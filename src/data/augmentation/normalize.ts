import { z } from "zod";
import { ConfigError } from "../../util/errors.js";
import { parseStep } from "./options.js";
import type { StepFactory } from "./types.js";

const Schema = z.object({
  type: z.literal("Normalize"),
  mean: z.array(z.number()).min(1),
  std: z.array(z.number().positive()).min(1),
  p: z.literal(1).default(1),
});

/** torchvision's `Normalize(mean, std)`: (x − mean[c]) / std[c] per channel (one value: every channel). */
export const normalize: StepFactory = (options, where) => {
  const o = parseStep(Schema, options, where);
  if (o.mean.length !== o.std.length)
    throw new ConfigError(
      `${where}.std`,
      `expected as many values as mean (${o.mean.length}), got ${o.std.length}`,
    );
  return {
    type: "Normalize",
    p: 1,
    apply(x, [, , c]) {
      if (o.mean.length !== 1 && o.mean.length !== c)
        throw new ConfigError(
          `${where}.mean`,
          `expected 1 or ${c} values (the samples have ${c} channels), got ${o.mean.length}`,
        );
      for (let i = 0; i < x.length; i++) {
        const k = o.mean.length === 1 ? 0 : i % c;
        x[i] = ((x[i] as number) - (o.mean[k] as number)) / (o.std[k] as number);
      }
    },
  };
};
