/** Foreign-key violations on either engine (a referenced row was deleted meanwhile), so callers can answer clearly. */
export function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** PostgreSQL SQLSTATEs of a lost or refused connection: class 08, the server shutting down or full. */
const PG_UNAVAILABLE = /^(08...|57P0[123]|53300)$/;
const NODE_NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
/** What node-postgres throws, without a code, when a connection dies under a query or cannot be made. */
const PG_CONNECTION_MESSAGE = /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed)|is not currently accepting connections/;

/**
 * The database could not be reached or is busy (a killed connection, a restart, a write lock held past
 * the busy timeout): the request did not happen and can be tried again, so it answers 503, not 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (PG_UNAVAILABLE.test(code) || NODE_NETWORK.has(code) || /^SQLITE_(BUSY|LOCKED)/.test(code))) return true;
  if (typeof message === 'string' && PG_CONNECTION_MESSAGE.test(message)) return true;
  const inner = (error as { errors?: unknown[] }).errors;
  return Array.isArray(inner) && inner.length > 0 && inner.every(isDatabaseUnavailable);
}
