/**
 * Every built-in dynamic sampler against its packaged config: the config has exactly the class's
 * keyword arguments with their defaults, builds, and an unknown key or a value of the wrong type is
 * an error naming it.
 */
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { createSampler, DYNAMIC_SAMPLERS, resolveSamplerClass } from "../../../src/curriculum/index.js";
import { readYaml } from "../../../src/util/yaml-io.js";

describe("packaged dynamic sampler configs", () => {
  const dir = resolve("configs/curriculum/sampling");

  it("lists Pools among the built-in samplers", () => {
    expect(DYNAMIC_SAMPLERS).toEqual(["InfoBatch", "StaticPrune", "SelfPaced", "Pools"]);
  });

  for (const id of DYNAMIC_SAMPLERS) {
    it(`${id}.yaml mirrors its class's keyword arguments and builds`, async () => {
      const config = readYaml<Record<string, unknown>>(join(dir, `${id}.yaml`));
      expect(config.id).toBe(id);
      expect(typeof config.short).toBe("string");
      const cls = await resolveSamplerClass(config);
      const { id: _id, short: _short, ...args } = config;
      expect(args).toEqual({ ...cls.defaults });
      const { sampler } = await createSampler(config);
      expect(sampler.args).toEqual(cls.defaults);
      await expect(createSampler({ ...config, unknown_key: 1 })).rejects.toThrow(
        new RegExp(`curriculum\\.sampling\\.unknown_key: not an argument of the ${id} sampler`),
      );
    });
  }

  it("Pools: a value of the wrong type or out of range is an error naming the key", async () => {
    await expect(createSampler({ id: "Pools", easy_fraction: "0.1" })).rejects.toThrow(
      /curriculum\.sampling\.easy_fraction: expected a number, got "0.1"/,
    );
    await expect(createSampler({ id: "Pools", hard_threshold: 0.9 })).rejects.toThrow(
      /curriculum\.sampling: Pools: hard_threshold must be below easy_threshold, got hard_threshold=0.9 and easy_threshold=0.8/,
    );
  });
});
