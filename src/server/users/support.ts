import type { AuditAction } from '../audit/actions';
import { MicrosoftUnreachableError, ProfileExpiredError, reasonOf } from '../app-profiles/errors';
import type { AppProfileRow } from '../app-profiles/store';
import type { AuthContext } from '../http/context';
import { NotFoundError } from '../http/errors';
import { GraphError, type GraphClient } from '../microsoft/graph';
import type { UserServiceDeps } from './types';
import type { UserStore } from './store';
import { toUserView, type UserView } from './view';

export type UserSupport = ReturnType<typeof createUserSupport>;

/** What the user-management operations share: views, the usable profile, Graph for a waiting person, the audit helper. */
export function createUserSupport(deps: Pick<UserServiceDeps, 'store' | 'audit' | 'appProfiles' | 'graphs' | 'downloads'>) {
  const { store, audit, appProfiles, downloads } = deps;

  function views(partnerId: string, rows: Awaited<ReturnType<UserStore['getWithProfile']>>): UserView[] {
    // A failure shows while the download it stopped has not been finished by another (progress stays set).
    const failureOf = (r: (typeof rows)[number]) =>
      r.kind === 'group' && r.sync_total !== null && r.sync_total !== undefined && r.download_failed_at && !downloads.isRunning(partnerId, r.id)
        ? { at: r.download_failed_at, message: r.download_failure ?? 'The membership download failed.' }
        : null;
    return rows.map((r) => toUserView(r, failureOf(r)));
  }

  async function viewsById(partnerId: string, ids: string[]): Promise<UserView[]> {
    const rows = await store.getWithProfile(partnerId, ids);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return views(
      partnerId,
      ids.map((id) => byId.get(id)).filter((r) => r !== undefined),
    );
  }

  /** A profile the partner owns and that is active; otherwise 404 or 409 PROFILE_EXPIRED. */
  async function usableProfile(partnerId: string, profileId: string): Promise<AppProfileRow> {
    const profile = await appProfiles.store.get(partnerId, profileId);
    if (!profile) throw new NotFoundError('The app profile');
    if (profile.status !== 'active') throw new ProfileExpiredError(profile.name, reasonOf(profile));
    return profile;
  }

  /** Graph work for a person waiting: refusals go through the one mapping, outages answer 503; nothing is changed. */
  async function throughGraph<T>(profile: AppProfileRow, work: (graph: GraphClient) => Promise<T>): Promise<T> {
    try {
      return await deps.graphs.run(profile, 'interactive', work);
    } catch (error) {
      if (error instanceof GraphError) throw new MicrosoftUnreachableError(error.status ? `HTTP ${error.status}` : error.code);
      throw error;
    }
  }

  function audited(auth: AuthContext, clientAddress: string) {
    return (action: AuditAction, target: { id: string | null; name: string }, outcome: 'success' | 'failure', details: Record<string, unknown>) =>
      audit.record({
        partnerId: auth.partner.id,
        actor: { userId: auth.user.id, email: auth.user.email },
        action,
        target: { type: 'user', ...target },
        outcome,
        clientAddress,
        details,
      });
  }

  return { views, viewsById, usableProfile, throughGraph, audited };
}
