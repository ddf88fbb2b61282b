import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import { z } from "zod";
import { readCsv } from "../../util/csv.js";
import { ConfigError, DataError } from "../../util/errors.js";
import { AbstractScore, type AtomicRun, type ScoreResult } from "../abstract-score.js";
import { BaseScoreParams } from "../argument-schemas.js";

/**
 * Predefined: difficulty given by the user, one column of a CSV file (e.g. human annotator
 * disagreement or scores from another tool). Rows are matched by a `source_index` column when the file
 * has one, else by position, and then the row count must equal the subset size (the original aligned
 * silently by position).
 */
export class Predefined extends AbstractScore {
  static override readonly schema = BaseScoreParams.extend({
    file: z.string().min(1),
    scores_column: z.string().min(1),
    reverse: z.boolean(),
    dataset: z.string().min(1),
  });
  static override readonly reference = "user-provided scores";

  constructor(...args: ConstructorParameters<typeof AbstractScore>) {
    super(...args);
    this.reverseScore = this.params.reverse as boolean;
    if (!existsSync(this.file))
      throw new ConfigError("curriculum.scoring.file", `File ${this.file} does not exist`);
  }

  get file(): string {
    return resolve(this.params.file as string);
  }

  override async preprocess(): Promise<AtomicRun[]> {
    const config = this.namedDatasetConfig();
    const stem = basename(this.file).split(".")[0];
    return [
      {
        name: `${config.id}_${stem}`,
        config: { dataset: config, file: this.file },
        inputs: [this.file],
      },
    ];
  }

  async score(_run: AtomicRun): Promise<ScoreResult> {
    const dataset = await this.namedDataset();
    const subset = dataset.subset(this.subsetName);
    const column = this.params.scores_column as string;
    // The file may be anything the config points at: errors name it and what was expected, and
    // never repeat its content (its first line could be a secret).
    const expected = `expected a CSV file whose header row names the column '${column}' (curriculum.scoring.scores_column)`;
    let table: ReturnType<typeof readCsv>;
    try {
      table = readCsv(this.file);
    } catch (error) {
      if (error instanceof DataError)
        throw new DataError(`${this.file}: not a readable CSV table; ${expected}`);
      throw error;
    }
    const { columns, rows } = table;
    if (!columns.includes(column)) {
      throw new DataError(
        `${this.file}: no column '${column}' in its header row of ${columns.length} column(s); ${expected}`,
      );
    }
    const values = rows.map((row, i) => {
      const v = Number(row[column]);
      if (row[column] === "" || Number.isNaN(v))
        throw new DataError(`${this.file}: row ${i + 2}: ${column}: not a number`);
      return v;
    });
    const scores = new Float64Array(subset.size);
    if (columns.includes("source_index")) {
      const position = new Map<number, number>();
      subset.sourceIndex.forEach((s, p) => {
        position.set(s, p);
      });
      const seen = new Uint8Array(subset.size);
      rows.forEach((row, i) => {
        const p = position.get(Number(row.source_index));
        if (p === undefined)
          throw new DataError(
            `${this.file}: row ${i + 2}: source_index ${row.source_index} is not in the ${this.subsetName} subset`,
          );
        seen[p] = 1;
        scores[p] = values[i] as number;
      });
      const missing = seen.indexOf(0);
      if (missing >= 0)
        throw new DataError(
          `${this.file}: no row for source_index ${subset.sourceIndex[missing]} of the ${this.subsetName} subset`,
        );
    } else {
      if (rows.length !== subset.size) {
        throw new DataError(
          `${this.file}: ${rows.length} rows, but the ${this.subsetName} subset of ${dataset.id} has ${subset.size} samples ` +
            "(rows are matched by position; add a source_index column to match by sample)",
        );
      }
      scores.set(values);
    }
    return { subset, classNames: dataset.classNames, columns: { scores } };
  }
}
