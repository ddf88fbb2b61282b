/**
 * Credentials in service URLs (`redis://user:password@host:6379`) are never shown: every URL
 * that is printed, logged or put in an error message goes through `maskUrl`, and text that may
 * quote one (an error of a client library) through `redactCredentials`.
 */

const MASK = "***";
/** scheme://[user[:password]@]rest */
const URL_WITH_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i;
/** A password given as a query parameter (`?password=...`, as ioredis also accepts). */
const PASSWORD_PARAM = /([?&](?:password|pass|pwd)=)[^&#]*/gi;

/** The URL with its password replaced by `***` (`redis://user:***@host:6379`); other text as is. */
export function maskUrl(url: string): string {
  return url
    .replace(URL_WITH_USERINFO, (_m, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(":");
      return colon === -1 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:${MASK}@`;
    })
    .replace(PASSWORD_PARAM, `$1${MASK}`);
}

/** The passwords a URL holds, as written and percent-decoded (empty when it holds none). */
export function urlPasswords(url: string): string[] {
  const found: string[] = [];
  const userinfo = URL_WITH_USERINFO.exec(url)?.[2];
  const colon = userinfo?.indexOf(":") ?? -1;
  if (userinfo && colon !== -1) found.push(userinfo.slice(colon + 1));
  for (const m of url.matchAll(PASSWORD_PARAM)) found.push(m[0].slice(m[1]?.length ?? 0));
  const all = new Set<string>();
  for (const raw of found) {
    if (!raw) continue;
    all.add(raw);
    try {
      all.add(decodeURIComponent(raw));
    } catch {
      // not percent-encoded: the raw form is the password
    }
  }
  return [...all];
}

/**
 * `text` with the credentials of `urls` masked: each URL as `maskUrl` writes it, then any other
 * occurrence of one of their passwords (a client library may quote it alone). Passwords shorter
 * than 3 characters are masked only inside their URL (masking them everywhere would garble text).
 */
export function redactCredentials(text: string, urls: readonly (string | undefined)[]): string {
  let out = text;
  for (const url of urls) {
    if (!url) continue;
    out = out.split(url).join(maskUrl(url));
    for (const password of urlPasswords(url)) {
      if (password.length >= 3) out = out.split(password).join(MASK);
    }
  }
  // A URL this process was not told about (from a config file, a job) is masked as well.
  return out.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"`<>]+/gi, (u) => maskUrl(u));
}
