import type { KeyCatalog } from "../config/keys.js";
import { MODEL_INIT_KEYS } from "../config/schema.js";
import { pacingClass } from "../curriculum/pacing/registry.js";
import { COMMON_DATASET_KEYS, DATASET_TYPES, datasetKeys } from "../data/index.js";
import { modelParamKeys } from "../models/index.js";

/**
 * The keys of a training config's typed groups, from the registries that build them: a dataset
 * type's keys, a model's parameters, a pacing function's arguments. Compose checks every key
 * against it (and the schemas), so a typo is an error before anything runs; a type not listed
 * (a custom module) is checked where it is built.
 */
export const runConfigKeys: KeyCatalog = (group, type) => {
  // The None curriculum and pacing take no arguments of their own: a key under them (a typo such as
  // curriculum.pacing.intial_size with curriculum None) is an error, not silently carried along.
  if (group === "curriculum" && type === "None") return ["short", "scoring", "pacing", "sampling"];
  if (group === "curriculum.pacing" && type === "None") return ["initial_size", "final_iteration"];
  if (group === "dataset") {
    return DATASET_TYPES.includes(type) ? [...COMMON_DATASET_KEYS, ...datasetKeys(type)] : undefined;
  }
  if (group === "model") {
    const params = modelParamKeys(type);
    return params ? [...params, "transform", ...MODEL_INIT_KEYS] : undefined;
  }
  if (group === "curriculum.pacing") {
    const cls = pacingClass(type);
    return cls
      ? ["initial_size", "final_iteration", "module", ...Object.keys(cls.defaults ?? {})]
      : undefined;
  }
  return undefined;
};
