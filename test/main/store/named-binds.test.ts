/**
 * Named binds rewritten for PostgreSQL: `@name` becomes `$n` (one number per distinct name) in the
 * SQL itself, never inside a string literal, a quoted identifier, a comment or a dollar-quoted body.
 */
import { describe, expect, it } from 'vitest';
import { positionalValues, toPositional } from '../../../src/main/store/named-binds.js';

describe('named binds', () => {
  it('numbers each distinct name once, in order of first use', () => {
    expect(toPositional('UPDATE t SET a = @a, b = @b WHERE a = @a')).toEqual({ text: 'UPDATE t SET a = $1, b = $2 WHERE a = $1', names: ['a', 'b'] });
  });

  it('leaves @ alone in literals, identifiers, comments and dollar-quoted bodies', () => {
    const sql = `SELECT @x, 'a@b''@c', "@d" -- @e\n, /* @f */ $$ @g $$, $fn$ @h $fn$, @y`;
    expect(toPositional(sql)).toEqual({ text: `SELECT $1, 'a@b''@c', "@d" -- @e\n, /* @f */ $$ @g $$, $fn$ @h $fn$, $2`, names: ['x', 'y'] });
  });

  it('gives the values in bind order, and refuses a name the params lack', () => {
    expect(positionalValues(['b', 'a'], { a: 1, b: null, extra: 3 })).toEqual([null, 1]);
    expect(() => positionalValues(['a'], {})).toThrow(/Missing named parameter "a"/);
  });
});
