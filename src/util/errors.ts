/**
 * Errors that reach the user. `exitCode` 2 is a usage error (bad command line), 1 a runtime error
 * (bad file, bad config value, failed run). Messages name the file, the key and what was expected.
 */
export class CurriculaError extends Error {
  readonly exitCode: 1 | 2;
  constructor(message: string, exitCode: 1 | 2 = 1) {
    super(message);
    this.name = "CurriculaError";
    this.exitCode = exitCode;
  }
}

/** A command-line usage error (exit code 2). */
export class UsageError extends CurriculaError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}

/** A configuration value that is missing or invalid; names the file (if any) and the dotted key. */
export class ConfigError extends CurriculaError {
  readonly file: string | undefined;
  readonly key: string;
  constructor(key: string, problem: string, file?: string) {
    super(`${file ? `${file}: ` : ""}${key}: ${problem}`, 1);
    this.name = "ConfigError";
    this.file = file;
    this.key = key;
  }
}

/** A data file that is missing or malformed. */
export class DataError extends CurriculaError {
  constructor(message: string) {
    super(message, 1);
    this.name = "DataError";
  }
}

/**
 * Training stopped on request (TrainOptions.shouldStop) after writing a checkpoint at `iteration`;
 * training the same run again resumes from there.
 */
export class TrainingInterrupted extends CurriculaError {
  readonly iteration: number;
  constructor(runDir: string, iteration: number) {
    super(`${runDir}: training stopped on request after a checkpoint at iteration ${iteration}`, 1);
    this.name = "TrainingInterrupted";
    this.iteration = iteration;
  }
}

/**
 * Training produced a non-finite loss (NaN or ±Infinity): the run diverged. It stops at once (its
 * weights are no longer numbers) and is a failed run like any other (training.log names the error).
 */
export class TrainingDiverged extends CurriculaError {
  constructor(runDir: string, where: string, loss: number, learningRate: number) {
    super(
      `${runDir}: training diverged: the training loss ${where} is ${loss} (learning_rate ${learningRate}); ` +
        "the run is stopped and left unfinished. Train again with a smaller learning_rate (a new run; " +
        "`curricula rm-failed` deletes this one)",
      1,
    );
    this.name = "TrainingDiverged";
  }
}
