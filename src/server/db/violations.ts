/** Foreign-key violations on either engine (a referenced row was deleted meanwhile), so callers can answer clearly. */
export function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}
