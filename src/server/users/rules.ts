import { z } from 'zod';

/** The decisions of adding users, free of I/O so they are unit-tested on their own. */

export type RejectionCode =
  | 'INVALID_EMAIL'
  | 'DUPLICATE_IN_REQUEST'
  | 'ALREADY_ADDED'
  | 'FOREIGN_DOMAIN'
  | 'NOT_FOUND_IN_TENANT'
  | 'ACCOUNT_DISABLED'
  | 'PROFILE_DELETED'
  | 'EMAIL_TAKEN';

export interface Rejection {
  email: string;
  code: RejectionCode;
  message: string;
}

const MAX_EMAIL_LENGTH = 254;
const emailFormat = z.email();

const MESSAGES: Record<RejectionCode, (email: string, extra?: string) => string> = {
  INVALID_EMAIL: (e) => `“${e}” is not a valid email address.`,
  DUPLICATE_IN_REQUEST: (e) => `“${e}” appears more than once in this request; it is added once.`,
  ALREADY_ADDED: (e) => `${e} is already a user of this portal.`,
  FOREIGN_DOMAIN: (e, tenant) => `${e} is not in a domain of the tenant ${tenant ?? ''}; choose the app profile of that address’s tenant.`.replace(' ;', ';'),
  NOT_FOUND_IN_TENANT: (e, tenant) => `No user or group with the address ${e} exists in the tenant ${tenant ?? ''}.`.replace(' .', '.'),
  ACCOUNT_DISABLED: (e) => `The Microsoft 365 account ${e} is disabled (sign-in blocked); enable it in the tenant first.`,
  PROFILE_DELETED: (e) => `${e} was not added: the app profile was deleted while adding.`,
  EMAIL_TAKEN: (e) => `${e} already has a local account in a portal; use another address or add it as a Microsoft 365 user.`,
};

/** A rejection with its message; `tenant` names the tenant the address was checked in. */
export const rejection = (email: string, code: RejectionCode, tenant?: string): Rejection => ({ email, code, message: MESSAGES[code](email, tenant) });

/** Splits the requested addresses into well-formed unique ones (lower-cased) and rejections, keeping the request order. */
export function screenAddresses(emails: string[]): { valid: string[]; rejected: Rejection[] } {
  const valid: string[] = [];
  const rejected: Rejection[] = [];
  const seen = new Set<string>();
  for (const raw of emails) {
    const email = raw.trim().toLowerCase();
    if (email.length === 0 || email.length > MAX_EMAIL_LENGTH || !emailFormat.safeParse(email).success) {
      rejected.push(rejection(raw.trim(), 'INVALID_EMAIL'));
    } else if (seen.has(email)) {
      rejected.push(rejection(email, 'DUPLICATE_IN_REQUEST'));
    } else {
      seen.add(email);
      valid.push(email);
    }
  }
  return { valid, rejected };
}

/** A local address is refused when the partner has it already, or any partner has it as a local account. */
export function localAddressVerdict(email: string, inPartner: ReadonlySet<string>, localAnywhere: ReadonlySet<string>): RejectionCode | null {
  if (inPartner.has(email)) return 'ALREADY_ADDED';
  if (localAnywhere.has(email)) return 'EMAIL_TAKEN';
  return null;
}

/** Before asking Graph: already the partner's, or outside the tenant's verified domains. Null: look it up. */
export function tenantAddressVerdict(email: string, inPartner: ReadonlySet<string>, tenantDomains: ReadonlySet<string>): RejectionCode | null {
  if (inPartner.has(email)) return 'ALREADY_ADDED';
  if (!tenantDomains.has(email.slice(email.lastIndexOf('@') + 1))) return 'FOREIGN_DOMAIN';
  return null;
}

/** A user or group Graph found for an address. */
export interface FoundObject {
  email: string;
  kind: 'user' | 'group';
  objectId: string;
  displayName: string;
}

/**
 * Which found objects to add, in request order: an object the partner already added, or one two
 * addresses of this request point at (a user's mail and UPN), is added once.
 */
export function placeFound(found: (FoundObject | RejectionCode)[], existingObjects: ReadonlySet<string>): (FoundObject | RejectionCode)[] {
  const taken = new Set<string>();
  return found.map((entry) => {
    if (typeof entry === 'string') return entry;
    if (existingObjects.has(entry.objectId)) return 'ALREADY_ADDED';
    if (taken.has(entry.objectId)) return 'DUPLICATE_IN_REQUEST';
    taken.add(entry.objectId);
    return entry;
  });
}
