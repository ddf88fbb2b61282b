import { describe, expect, it } from "vitest";
import { maskUrl, redactCredentials, urlPasswords } from "../../src/util/secrets.js";

describe("credentials in service URLs", () => {
  it("masks the password of a URL and keeps the rest", () => {
    expect(maskUrl("redis://user:s3cret@queue-host:6379/2")).toBe("redis://user:***@queue-host:6379/2");
    expect(maskUrl("rediss://:s3cret@queue-host:6380")).toBe("rediss://:***@queue-host:6380");
    expect(maskUrl("redis://queue-host:6379?password=s3cret&db=1")).toBe(
      "redis://queue-host:6379?password=***&db=1",
    );
    // A user name alone is no secret; a URL without credentials is unchanged.
    expect(maskUrl("redis://alice@queue-host:6379")).toBe("redis://alice@queue-host:6379");
    expect(maskUrl("redis://127.0.0.1:6379")).toBe("redis://127.0.0.1:6379");
  });

  it("finds the password as written and percent-decoded", () => {
    expect(urlPasswords("redis://u:p%40ss%3Aword@h:1")).toEqual(["p%40ss%3Aword", "p@ss:word"]);
    expect(urlPasswords("redis://h:1")).toEqual([]);
  });

  it("redacts the URL and its password wherever a message quotes them", () => {
    const url = "redis://ops:p%40ssw0rd@queue-host:6379";
    const text =
      `cannot reach ${url}: WRONGPASS for 'p@ssw0rd' (also p%40ssw0rd); ` +
      "another redis://x:other-secret@elsewhere:1 too";
    const out = redactCredentials(text, [url, undefined]);
    for (const secret of ["p@ssw0rd", "p%40ssw0rd", "other-secret"]) expect(out).not.toContain(secret);
    expect(out).toContain("redis://ops:***@queue-host:6379");
    expect(out).toContain("redis://x:***@elsewhere:1");
  });
});
