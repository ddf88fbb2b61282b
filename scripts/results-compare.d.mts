/** Types of results-compare.mjs (for the tests that import it). */
export declare const TIMING_FILES: RegExp;
export declare function listFiles(dir: string, root?: string): string[];
export declare function normalise(rel: string, text: string): string;
export declare function compareResults(a: string, b: string): { same: number; differences: string[] };
