import type { Role } from '../http/context';
import { parseErrorCodes } from '../microsoft/errors';

/**
 * The codes the sign-in page turns into messages (`/signin?error=CODE`). A lapsed app profile is no reason:
 * sign-in needs only the person's own token and the tenant-wide consent, not the profile's authorization.
 */
export const SSO_REFUSAL_CODES = [
  'NOT_ADDED',
  'ACCOUNT_DISABLED',
  'REMOVED_FROM_GROUP',
  'EMAIL_IN_USE',
  'CONSENT_REMOVED',
  'APP_DISABLED',
  'STATE_INVALID',
  'MICROSOFT_ERROR',
] as const;

export type SsoRefusalCode = (typeof SSO_REFUSAL_CODES)[number];

/** When several partners refuse for different reasons, the most specific reason is shown. */
const REFUSAL_PRIORITY: SsoRefusalCode[] = ['ACCOUNT_DISABLED', 'REMOVED_FROM_GROUP', 'EMAIL_IN_USE', 'CONSENT_REMOVED', 'APP_DISABLED', 'MICROSOFT_ERROR', 'NOT_ADDED'];

/** One partner's entries that may concern the person signing in. */
export interface Entry {
  id: string;
  partner_id: string;
  kind: 'user' | 'group';
  role: Role;
  status: 'invited' | 'active' | 'disabled';
  email: string;
  via_group_id: string | null;
  ms_object_id: string | null;
  app_profile_id: string;
  partner_name: string;
}

/** A partner's entries sorted by what they mean: the person's own entry, their member record, the active groups. */
export interface PartnerEntries {
  partnerId: string;
  partnerName: string;
  direct: Entry | null;
  record: Entry | null;
  groups: Entry[];
}

export function classifyEntries(entries: Entry[]): PartnerEntries {
  return {
    partnerId: entries[0].partner_id,
    partnerName: entries[0].partner_name,
    direct: entries.find((e) => e.kind === 'user' && e.via_group_id === null) ?? null,
    record: entries.find((e) => e.kind === 'user' && e.via_group_id !== null) ?? null,
    groups: entries.filter((e) => e.kind === 'group' && e.status === 'active' && e.ms_object_id),
  };
}

/** Refusals that need no word from Graph; null means the decision may go on (decideSignIn). */
export function refusalBeforeGraph(p: PartnerEntries): SsoRefusalCode | null {
  if (p.direct?.status === 'disabled') return 'ACCOUNT_DISABLED';
  if (!p.direct && p.groups.length === 0) return p.record ? 'REMOVED_FROM_GROUP' : 'NOT_ADDED';
  return null;
}

/**
 * Whether Graph must be asked about group membership. A direct entry needs no Graph call to let its person in:
 * Microsoft itself refuses disabled or deleted accounts at sign-in (AADSTS50057). Groups can then only raise
 * a Member to Administrator, so they are asked only when that could happen.
 */
export function needsGroupCheck(p: PartnerEntries): boolean {
  if (p.direct) return p.direct.role !== 'administrator' && p.groups.some((g) => g.role === 'administrator');
  return p.groups.length > 0;
}

export type SignInDecision =
  | { allow: 'user'; userId: string; groupRole: Role | null; matched: Entry[]; unmatched: Entry[] }
  | { allow: 'group'; group: Entry; record: Entry | null; matched: Entry[]; unmatched: Entry[] }
  | { refuse: SsoRefusalCode; matched: Entry[]; unmatched: Entry[]; endRecordSessions: boolean };

const roleRank = (role: Role) => (role === 'administrator' ? 2 : 1);

/**
 * The decision once Graph said which of the partner's groups the person is in (`memberOf`, lower-cased
 * group object ids). A direct entry lets them in with its role (groups may add a higher one); otherwise
 * the group with the highest role does, through the person's member record.
 */
export function decideSignIn(p: PartnerEntries, memberOf: ReadonlySet<string>): SignInDecision {
  const matched = p.groups.filter((g) => memberOf.has(g.ms_object_id!.toLowerCase()));
  const unmatched = p.groups.filter((g) => !memberOf.has(g.ms_object_id!.toLowerCase()));
  if (p.direct) {
    const groupRole = matched.some((g) => g.role === 'administrator') ? 'administrator' : matched.length > 0 ? 'member' : null;
    return { allow: 'user', userId: p.direct.id, groupRole, matched, unmatched };
  }
  if (matched.length === 0) return { refuse: p.record ? 'REMOVED_FROM_GROUP' : 'NOT_ADDED', matched, unmatched, endRecordSessions: p.record !== null };
  if (p.record?.status === 'disabled') return { refuse: 'ACCOUNT_DISABLED', matched, unmatched, endRecordSessions: false };
  const group = matched.reduce((a, b) => (roleRank(b.role) > roleRank(a.role) ? b : a));
  return { allow: 'group', group, record: p.record, matched, unmatched };
}

/** The one refusal shown when no partner lets the person in. */
export function strongestRefusal(codes: SsoRefusalCode[]): SsoRefusalCode {
  return REFUSAL_PRIORITY.find((c) => codes.includes(c)) ?? 'NOT_ADDED';
}

/**
 * Microsoft's own refusal of the person's sign-in, from the AADSTS codes of the redirect or the token endpoint:
 * a blocked account (AADSTS50057); the tenant's consent removed (AADSTS65001 consent missing, or AADSTS90094
 * "Need admin approval" that a person who is no administrator meets once the tenant-wide grant is gone); the
 * app disabled or deleted in the tenant (AADSTS7000112, AADSTS700016); anything else.
 */
export function refusalFromMicrosoft(codes: readonly number[]): SsoRefusalCode {
  if (codes.includes(50057)) return 'ACCOUNT_DISABLED';
  if (codes.includes(65001) || codes.includes(90094)) return 'CONSENT_REMOVED';
  if (codes.includes(7000112) || codes.includes(700016)) return 'APP_DISABLED';
  return 'MICROSOFT_ERROR';
}

export function refusalFromCallback(params: { error?: string; errorDescription?: string }): SsoRefusalCode {
  return refusalFromMicrosoft(parseErrorCodes(undefined, params.errorDescription));
}
