/**
 * The repositories bind by name (`@name`, better-sqlite3's style); PostgreSQL's protocol binds by
 * position (`$1`). This rewrites one into the other, outside string literals, quoted identifiers,
 * comments and dollar-quoted bodies, where an `@` is text and not a bind.
 */

export interface PositionalSql {
  /** The SQL with `$n` for each distinct name, in order of first use. */
  text: string;
  /** The name bound at `$n` is `names[n - 1]`. */
  names: string[];
}

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const DOLLAR_TAG = /\$([A-Za-z_][A-Za-z0-9_]*)?\$/y;

/** Where a match of the sticky `re` starting exactly at `at` ends, or -1. */
function matchEnd(re: RegExp, sql: string, at: number): number {
  re.lastIndex = at;
  return re.test(sql) ? re.lastIndex : -1;
}

export function toPositional(sql: string): PositionalSql {
  const names: string[] = [];
  let text = '';
  let i = 0;
  /** Copies sql[i..] up to and including the first `end` found at or after `from`. */
  const copyThrough = (end: string, from: number): void => {
    const at = sql.indexOf(end, from);
    const stop = at < 0 ? sql.length : at + end.length;
    text += sql.slice(i, stop);
    i = stop;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      // A doubled quote inside is an escaped quote: scanning to the next quote and going on
      // from there reads it as two adjacent literals, which copies the same text.
      copyThrough(c, i + 1);
    } else if (c === '-' && sql[i + 1] === '-') {
      copyThrough('\n', i + 2);
    } else if (c === '/' && sql[i + 1] === '*') {
      copyThrough('*/', i + 2);
    } else if (c === '$' && matchEnd(DOLLAR_TAG, sql, i) > 0) {
      const tagEnd = matchEnd(DOLLAR_TAG, sql, i);
      copyThrough(sql.slice(i, tagEnd), tagEnd);
    } else if (c === '@' && matchEnd(NAME, sql, i + 1) > 0) {
      const nameEnd = matchEnd(NAME, sql, i + 1);
      const name = sql.slice(i + 1, nameEnd);
      let n = names.indexOf(name);
      if (n < 0) n = names.push(name) - 1;
      text += `$${n + 1}`;
      i = nameEnd;
    } else {
      text += c;
      i++;
    }
  }
  return { text, names };
}

/** The values for `names`, in order; a name the params lack is an error, as in better-sqlite3. */
export function positionalValues(names: readonly string[], params: Readonly<Record<string, unknown>> | undefined): unknown[] {
  return names.map((name) => {
    if (!params || !Object.hasOwn(params, name)) throw new RangeError(`Missing named parameter "${name}"`);
    return params[name];
  });
}
