import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../src/config/package.js";
import { DatasetConfigSchema } from "../../src/config/schema.js";
import { COMMON_DATASET_KEYS, createDataset, DATASET_TYPES, datasetKeys } from "../../src/data/index.js";
import { readYaml } from "../../src/util/yaml-io.js";

const folder = join(PACKAGE_ROOT, "configs", "dataset");
const files = readdirSync(folder).filter((f) => f.endsWith(".yaml"));

describe("packaged dataset configs", () => {
  it("exist", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)("%s uses a known type and only that type's keys", (file) => {
    const config = readYaml<Record<string, unknown>>(join(folder, file));
    expect(DATASET_TYPES).toContain(config.type);
    const allowed = new Set([...COMMON_DATASET_KEYS, ...datasetKeys(config.type as string)]);
    const unknown = Object.keys(config).filter((k) => !allowed.has(k));
    expect(unknown, `${file}: keys the ${config.type} dataset does not read`).toEqual([]);
  });

  it.each(files.filter((f) => /^(Digits|DigitsImage|Iris|Toy)\.yaml$/.test(f)))("%s builds", async (file) => {
    const config = DatasetConfigSchema.parse(readYaml(join(folder, file)));
    const ds = await createDataset(config);
    expect(ds.subset("dev").size).toBeGreaterThan(0);
  });
});
