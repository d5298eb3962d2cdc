// Reads what the adapter needs from a MongoDB connection string without the driver: the
// database named in its path, a form safe to show in messages, and the secrets it holds.

/** What the adapter takes from a connection string. */
export interface ParsedUri {
  /** The URI with credentials masked and the query left out; safe for any message. */
  display: string;
  /** The database in the URI's path, percent-decoded; `undefined` if there is none. */
  dbName: string | undefined;
  /** The query's options: lowercased names and their (percent-encoded) values. */
  options: Map<string, string>;
  /** Strings that must never appear in a message: passwords, tokens, the raw URI. */
  secrets: string[];
  /**
   * Whether an `@` follows the host list. The driver then reads everything up to the last
   * `@` as credentials and rejects the URI, and so do we, before showing any of it.
   */
  ambiguous: boolean;
}

const SCHEME = /^mongodb(?:\+srv)?:\/\//;
/** Query options and client options whose values are credentials. */
const SECRET_NAME = /pass|secret|token|credential|key|authmechanismproperties/i;

/**
 * Splits a connection string. A well-formed one (the MongoDB spec requires `@`, `/`, `:`
 * and `?` in credentials to be percent-encoded) is read exactly. If an `@` appears after
 * the host list, the credentials might contain an unescaped `/` or `?`, so everything up
 * to the last `@` is treated as secret and hidden, as the driver itself reads it.
 *
 * @param uri A string starting with `mongodb://` or `mongodb+srv://`.
 */
export function parseUri(uri: string): ParsedUri {
  const scheme = SCHEME.exec(uri)?.[0] ?? "";
  const rest = uri.slice(scheme.length);
  const authorityEnd = firstOf(rest, "/?#");
  const authority = rest.slice(0, authorityEnd);
  const tail = rest.slice(authorityEnd);
  const secrets = [uri];

  let display: string;
  const ambiguous = tail.includes("@");
  if (ambiguous) {
    const lastAt = rest.lastIndexOf("@");
    const hidden = rest.slice(0, lastAt);
    secrets.push(...variants(hidden), ...variants(hidden.slice(hidden.indexOf(":") + 1)));
    const after = rest.slice(lastAt + 1);
    display = `${scheme}***@${after.slice(0, firstOf(after, "?#"))}`;
  } else {
    const at = authority.lastIndexOf("@");
    const hosts = authority.slice(at + 1);
    let shownUser = "";
    if (at >= 0) {
      const userinfo = authority.slice(0, at);
      const colon = userinfo.indexOf(":");
      const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
      if (colon >= 0) secrets.push(...variants(userinfo.slice(colon + 1)));
      const clean = /^[^\s:@/?#]+$/.test(user);
      if (!clean) secrets.push(...variants(userinfo));
      shownUser = clean ? (colon >= 0 ? `${user}:***@` : `${user}@`) : "***@";
    }
    display = `${scheme}${shownUser}${hosts}${tail.slice(0, firstOf(tail, "?#"))}`;
  }

  const queryStart = tail.indexOf("?");
  const options = new Map<string, string>();
  if (queryStart >= 0) {
    const query = tail.slice(queryStart + 1).split("#")[0];
    for (const pair of query.split("&")) {
      const eq = pair.indexOf("=");
      const name = eq >= 0 ? pair.slice(0, eq) : pair;
      options.set(name.toLowerCase(), eq >= 0 ? pair.slice(eq + 1) : "");
      if (SECRET_NAME.test(name) && eq >= 0) secrets.push(...variants(pair.slice(eq + 1)));
    }
  }

  let dbName: string | undefined;
  if (!ambiguous && tail.startsWith("/")) {
    const path = tail.slice(1, firstOf(tail, "?#"));
    if (path !== "") dbName = decode(path) ?? path;
  }
  return {
    display,
    dbName,
    options,
    secrets: secrets.filter((s) => s !== ""),
    ambiguous,
  };
}

/**
 * The credentials in client options: string values under keys such as `password`,
 * `secretAccessKey` or `AWS_SESSION_TOKEN`, at any depth up to four.
 *
 * @param options The `clientOptions` passed to the adapter.
 */
export function optionSecrets(options: unknown): string[] {
  const out: string[] = [];
  const walk = (value: unknown, depth: number): void => {
    if (value === null || typeof value !== "object" || depth > 4) return;
    for (const [key, item] of Object.entries(value)) {
      if (typeof item === "string" && SECRET_NAME.test(key)) out.push(...variants(item));
      else walk(item, depth + 1);
    }
  };
  try {
    walk(options, 0);
  } catch {
    // A getter that throws: the driver will complain about it, not us.
  }
  return out.filter((s) => s !== "");
}

function variants(text: string): string[] {
  const decoded = decode(text);
  return decoded === undefined || decoded === text ? [text] : [text, decoded];
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function firstOf(text: string, chars: string): number {
  for (let i = 0; i < text.length; i++) if (chars.includes(text[i])) return i;
  return text.length;
}
