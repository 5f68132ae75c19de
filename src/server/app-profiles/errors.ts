import { AppError } from '../http/errors';
import type { StatusReason } from '../microsoft/aadsts';
import { GraphError } from '../microsoft/graph-errors';
import type { AppProfileRow } from './store';

/** The profile's authorization is gone (the token endpoint said so): re-authorize it. */
export class ProfileExpiredError extends AppError {
  constructor(name: string, reason: StatusReason | null) {
    super(409, 'PROFILE_EXPIRED', `App profile “${name}” needs attention: App authorization expired. ${reason?.fix ?? 'Re-authorize the app profile.'}`, {
      reason: reason ?? undefined,
    });
  }
}

export class MicrosoftUnreachableError extends AppError {
  constructor(detail: string) {
    super(503, 'MICROSOFT_UNAVAILABLE', `Microsoft could not be reached or is busy (${detail}). Nothing was changed; try again in a moment.`);
  }
}

/**
 * Graph refused one request (401/403) although the token endpoint still honours the authorization: the
 * profile stays Active and shows "last check failed"; only the token endpoint's verdict expires it.
 */
export class GraphRefusedError extends AppError {
  constructor(name: string, graphCode: string) {
    super(
      502,
      'MICROSOFT_REFUSED',
      `Microsoft Graph refused the request through app profile “${name}” (${graphCode}). Nothing was changed. If this keeps happening, check the app profile or authorize it again.`,
      { graphCode },
    );
  }
}

/** What the profile shows after Graph refused a data call with a fresh token. */
export function graphRefusalMessage(error: GraphError): string {
  return `Microsoft Graph refused a request (${error.status} ${error.code}); the consent or the permissions may have changed.`;
}

/** The stored cause and fix of an expired profile. */
export function reasonOf(row: Pick<AppProfileRow, 'status_code' | 'status_message' | 'status_fix'>): StatusReason | null {
  return row.status_code ? { code: row.status_code, message: row.status_message ?? '', fix: row.status_fix ?? '' } : null;
}

/** Graph's verdict on a data call that says nothing about the authorization itself. */
export const isGraphRefusal = (error: unknown): error is GraphError => error instanceof GraphError && (error.status === 401 || error.status === 403);
