import { expect } from "vitest";

/**
 * Element-wise assertions for arrays. Each checks that there is something to compare and that the
 * lengths agree before it compares elements, so a short, empty or missing array fails instead of
 * passing a loop that ran zero assertions.
 */

function expectComparable(
  actual: ArrayLike<unknown> | undefined | null,
  expected: ArrayLike<unknown>,
  what: string,
) {
  expect(expected.length, `${what}: the expected array is empty, nothing would be compared`).toBeGreaterThan(
    0,
  );
  expect(actual, `${what}: missing`).toBeDefined();
  expect(actual, `${what}: missing`).not.toBeNull();
  expect((actual as ArrayLike<unknown>).length, `${what}: length`).toBe(expected.length);
}

/** |actual − expected| ≤ atol + rtol·|expected| element-wise, with a message naming the worst element. */
export function expectClose(
  actual: ArrayLike<number> | undefined | null,
  expected: ArrayLike<number>,
  what: string,
  atol = 1e-5,
  rtol = 1e-4,
): void {
  expectComparable(actual, expected, what);
  const got = actual as ArrayLike<number>;
  let worst = -1;
  let excess = 0;
  for (let i = 0; i < expected.length; i++) {
    const d =
      Math.abs((got[i] as number) - (expected[i] as number)) -
      (atol + rtol * Math.abs(expected[i] as number));
    if (d > excess || Number.isNaN(d)) {
      excess = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
      worst = i;
    }
  }
  expect(worst, `${what}: element ${worst} is ${got[worst]}, expected ${expected[worst]}`).toBe(-1);
}

/** Each element `toBeCloseTo(expected[i], digits)` (|a − b| < 10^−digits / 2), the lengths checked first. */
export function expectCloseTo(
  actual: ArrayLike<number> | undefined | null,
  expected: ArrayLike<number>,
  digits: number,
  what: string,
): void {
  expectComparable(actual, expected, what);
  const got = actual as ArrayLike<number>;
  for (let i = 0; i < expected.length; i++) {
    expect(got[i], `${what}[${i}]`).toBeCloseTo(expected[i] as number, digits);
  }
}
