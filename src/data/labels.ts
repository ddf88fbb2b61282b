/**
 * Label encoding shared by every dataset (as autrainer's LabelEncoder): class names are sorted
 * (plain code-unit order, so `class_1, class_10, class_2`), and a class's code is its position.
 */
export function sortClassNames(names: Iterable<string>): string[] {
  return [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Encodes string labels against sorted class names; unknown names are an Error. */
export function encodeWith(classNames: readonly string[], labels: readonly string[]): Int32Array {
  const code = new Map(classNames.map((name, i) => [name, i]));
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const c = code.get(labels[i] as string);
    if (c === undefined) throw new Error(`label '${labels[i]}' is not one of the classes`);
    out[i] = c;
  }
  return out;
}

/** Sorted class names of `labels` and their codes. */
export function encodeLabels(labels: readonly string[]): { classNames: string[]; codes: Int32Array } {
  const classNames = sortClassNames(labels);
  return { classNames, codes: encodeWith(classNames, labels) };
}

/**
 * For sources whose labels are small integers with names (IDX files, the scikit-learn CSVs):
 * maps each raw id to the code of its name among the sorted names.
 */
export function rawToCode(namesByRawId: readonly string[]): { classNames: string[]; codeOfRaw: Int32Array } {
  const classNames = sortClassNames(namesByRawId);
  const codeOfRaw = encodeWith(classNames, namesByRawId);
  return { classNames, codeOfRaw };
}
