import type { Command } from "commander";
import { register as registerCompare } from "./compare.js";
import { register as registerCreate } from "./create.js";
import { register as registerCurriculum } from "./curriculum.js";
import { register as registerEngines } from "./engines.js";
import { register as registerExplore } from "./explore.js";
import { register as registerFuse } from "./fuse.js";
import { register as registerImport } from "./import.js";
import { register as registerList } from "./list.js";
import { register as registerPace } from "./pace.js";
import { register as registerPostprocess } from "./postprocess.js";
import { register as registerReport } from "./report.js";
import { register as registerRm } from "./rm.js";
import { register as registerShow } from "./show.js";
import { register as registerStatus } from "./status.js";
import { register as registerStudy } from "./study.js";
import { register as registerTrain } from "./train.js";
import { register as registerWorker } from "./worker.js";

/**
 * Every CLI command module exports `register(program)`; add one import and one entry per command.
 */
export type CommandRegistrar = (program: Command) => void;

export const COMMANDS: CommandRegistrar[] = [
  registerCreate,
  registerList,
  registerShow,
  registerTrain,
  registerPostprocess,
  registerCompare,
  registerRm,
  registerCurriculum,
  registerPace,
  registerFuse,
  registerImport,
  registerReport,
  registerExplore,
  registerStudy,
  registerStatus,
  registerWorker,
  registerEngines,
];
