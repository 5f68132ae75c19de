import { sql, type RawBuilder } from 'kysely';

/**
 * A case-insensitive "contains" pattern for `LIKE` on a lower-cased column, with `%`, `_` and `\` in the search
 * term matched literally on both engines (explicit `ESCAPE '\'`).
 */
export function containing(term: string): RawBuilder<string> {
  const pattern = `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<string>`${pattern} escape '\\'`;
}
