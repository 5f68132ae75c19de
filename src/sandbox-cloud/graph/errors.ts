/** Graph's error shape: {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}. */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function graphErrorBody(error: GraphError, requestId: string, clientRequestId: string, date: Date) {
  return {
    error: {
      code: error.code,
      message: error.message,
      innerError: { date: date.toISOString().slice(0, 19), 'request-id': requestId, 'client-request-id': clientRequestId },
    },
  };
}

export const unsupportedQuery = (message: string) => new GraphError(400, 'Request_UnsupportedQuery', message);
export const badRequest = (message: string) => new GraphError(400, 'BadRequest', message);
export const notFound = (id: string) =>
  new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
export const accessDenied = () => new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
export const invalidToken = (message: string) =>
  new GraphError(401, 'InvalidAuthenticationToken', message, { 'www-authenticate': 'Bearer realm="", error="invalid_token"' });
