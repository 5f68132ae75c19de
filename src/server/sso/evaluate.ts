import type { AppProfileRow } from '../app-profiles/store';
import type { TenantGraphs } from '../app-profiles/tenant-graph';
import type { CoreServices } from '../core-types';
import { isUniqueViolation } from '../db/database';
import type { Cloud } from '../microsoft/clouds';
import { GraphError } from '../microsoft/graph';
import type { IdTokenClaims } from '../microsoft/oauth';
import { newUserRow, type UserStore } from '../users/store';
import type { PartnerChoice } from './choice-store';
import { classifyEntries, decideSignIn, needsGroupCheck, refusalBeforeGraph, type Entry, type PartnerEntries, type SsoRefusalCode } from './decisions';

/** The signing-in person's own delegated Graph token (never stored, never logged). */
interface PersonToken {
  cloud: Cloud;
  tenantId: string;
  accessToken: string;
}

/** What sign-in needs of an app profile: its id, the tenant's domain and Graph host (never its sealed token). */
type ProfileForSignIn = Pick<AppProfileRow, 'id' | 'tenant_domain' | 'graph_host'>;

/** `error`: the unexpected failure behind a refusal, for the log (the person reads only the code). */
export type PartnerOutcome =
  | { ok: true; choice: PartnerChoice; via: 'user' | 'group' }
  | { ok: false; code: SsoRefusalCode; partnerId: string; userId: string | null; error?: unknown };

/**
 * Which partners let a signed-in person in. Each partner is evaluated on its own (decisions.ts decides,
 * this module asks Graph with the person's own token and writes the member record and the membership index).
 */
export function createPartnerEvaluation(deps: Pick<CoreServices, 'db' | 'sessions'> & { users: UserStore; graphs: Pick<TenantGraphs, 'forToken'> }) {
  const { db, users } = deps;

  /** Every entry of every partner that may concern this person: their user entries and member records, and group entries of their tenant. */
  async function candidates(cloud: Cloud, tid: string, oid: string): Promise<{ entries: Entry[]; profiles: Map<string, ProfileForSignIn> }> {
    const profiles = await db.selectFrom('app_profiles').select(['id', 'tenant_domain', 'graph_host']).where('cloud', '=', cloud).where('tenant_id', '=', tid).execute();
    if (profiles.length === 0) return { entries: [], profiles: new Map() };
    const rows = await db
      .selectFrom('users as u')
      .innerJoin('partners as pa', 'pa.id', 'u.partner_id')
      .select(['u.id', 'u.partner_id', 'u.kind', 'u.role', 'u.status', 'u.email', 'u.via_group_id', 'u.ms_object_id', 'u.app_profile_id', 'pa.name as partner_name'])
      .where('u.sign_in_type', '=', 'microsoft365')
      .where(
        'u.app_profile_id',
        'in',
        profiles.map((p) => p.id),
      )
      .where((eb) => eb.or([eb('u.kind', '=', 'group'), eb.and([eb('u.kind', '=', 'user'), eb('u.ms_object_id', '=', oid)])]))
      .execute();
    return { entries: rows as Entry[], profiles: new Map(profiles.map((p) => [p.id, p])) };
  }

  /**
   * Asks Graph, with the person's own delegated token (`/me/checkMemberGroups`, under the tenant-wide consent),
   * which of the partner's groups they are in; null when nothing needs asking or Graph could not tell a
   * person who has a direct entry. The app profile's authorization is not used, so a lapsed profile stops
   * nobody from signing in; its Graph host is (a DoD tenant answers at dod-graph.microsoft.us, not at the
   * cloud's default host). A 403 means the tenant's consent no longer covers the call.
   */
  async function membershipOfPerson(p: PartnerEntries, person: PersonToken, graphHost: string | null): Promise<Set<string> | null | SsoRefusalCode> {
    if (!needsGroupCheck(p)) return null;
    try {
      const graph = deps.graphs.forToken(person.cloud, person.tenantId, person.accessToken, 'interactive', graphHost);
      return new Set((await graph.checkMemberGroups({ me: true }, p.groups.map((g) => g.ms_object_id!))).map((id) => id.toLowerCase()));
    } catch (error) {
      if (error instanceof GraphError && error.status === 403) return 'CONSENT_REMOVED';
      // The person's account is gone or blocked meanwhile: like a disabled account.
      if (error instanceof GraphError && (error.status === 404 || error.status === 401)) return 'ACCOUNT_DISABLED';
      // Graph is unavailable: a direct entry still lets its person in (the groups could only have raised the role).
      return p.direct ? null : 'MICROSOFT_ERROR';
    }
  }

  async function evaluatePartner(entries: Entry[], profile: ProfileForSignIn, claims: IdTokenClaims, person: PersonToken): Promise<PartnerOutcome> {
    const p = classifyEntries(entries);
    const refuse = (code: SsoRefusalCode): PartnerOutcome => ({ ok: false, code, partnerId: p.partnerId, userId: p.direct?.id ?? p.record?.id ?? null });
    const early = refusalBeforeGraph(p);
    if (early) return refuse(early);
    const memberOf = await membershipOfPerson(p, person, profile.graph_host);
    if (typeof memberOf === 'string') return refuse(memberOf);

    const decision = decideSignIn(p, memberOf ?? new Set());
    // Keep the index honest for this person right away when Graph was asked; the sync does the same for everybody.
    if (memberOf) await users.setPersonMemberships(p.partnerId, claims.oid, decision.matched.map((g) => g.id), decision.unmatched.map((g) => g.id));
    if ('refuse' in decision) {
      if (decision.endRecordSessions && p.record) await deps.sessions.destroyForUsers(p.partnerId, [p.record.id]);
      return refuse(decision.refuse);
    }
    if (decision.allow === 'user') return { ok: true, via: 'user', choice: { partnerId: p.partnerId, partnerName: p.partnerName, userId: decision.userId, groupRole: decision.groupRole } };
    const userId = await upsertMemberRecord(p.partnerId, profile, decision.group, claims, decision.record);
    if (!userId) return refuse('EMAIL_IN_USE');
    return { ok: true, via: 'group', choice: { partnerId: p.partnerId, partnerName: p.partnerName, userId } };
  }

  /**
   * The record of a member who signs in through a group: created at first sign-in, kept in step after.
   * Null when another entry of the partner (a local user) already has the person's address.
   */
  async function upsertMemberRecord(partnerId: string, profile: ProfileForSignIn, group: Entry, claims: IdTokenClaims, record: Entry | null): Promise<string | null> {
    const email = (claims.preferredUsername ?? claims.email ?? `${claims.oid}@${profile.tenant_domain}`).toLowerCase();
    const displayName = claims.name ?? email.split('@')[0];
    if (record) {
      await users.updateMemberRecord(partnerId, record.id, { role: group.role, via_group_id: group.id, display_name: displayName });
      return record.id;
    }
    const row = newUserRow({
      partner_id: partnerId,
      email,
      role: group.role,
      display_name: displayName,
      sign_in_type: 'microsoft365',
      app_profile_id: profile.id,
      ms_tenant_id: claims.tid,
      ms_object_id: claims.oid,
      via_group_id: group.id,
      last_synced_at: new Date().toISOString(),
    });
    try {
      await users.insert(row);
      return row.id;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // A parallel first sign-in of the same person created it a moment ago, or the address is another entry's.
      return (await users.findByObject(partnerId, claims.tid, claims.oid))?.id ?? null;
    }
  }

  /**
   * Each partner on its own: an unexpected failure in one refuses that partner (MICROSOFT_ERROR), not the sign-in
   * everywhere; the outcome carries the error so the callback route logs it.
   */
  async function evaluateAll(cloud: Cloud, claims: IdTokenClaims, accessToken: string): Promise<PartnerOutcome[]> {
    const person: PersonToken = { cloud, tenantId: claims.tid, accessToken };
    const { entries, profiles } = await candidates(cloud, claims.tid, claims.oid);
    const byPartner = new Map<string, Entry[]>();
    for (const e of entries) byPartner.set(e.partner_id, [...(byPartner.get(e.partner_id) ?? []), e]);
    const outcomes: PartnerOutcome[] = [];
    for (const [partnerId, list] of byPartner) {
      try {
        outcomes.push(await evaluatePartner(list, profiles.get(list[0].app_profile_id)!, claims, person));
      } catch (error) {
        outcomes.push({ ok: false, code: 'MICROSOFT_ERROR', partnerId, userId: null, error });
      }
    }
    return outcomes;
  }

  return { evaluateAll };
}
