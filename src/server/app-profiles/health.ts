import type { AuditLog } from '../audit/store';
import { mapPool } from '../jobs/pool';
import { errorExpiresAuthorization, statusReasonFor, type StatusReason } from '../microsoft/aadsts';
import { MicrosoftTokenError, MicrosoftUnavailableError } from '../microsoft/errors';
import type { GraphError } from '../microsoft/graph';
import type { MicrosoftOAuth } from '../microsoft/oauth';
import { APP_PROFILE_REFRESH_SCOPES, missingPermissions } from '../microsoft/permissions';
import type { SecretBox } from '../security/secret-box';
import { checksFailing, checksRestored, permissionDrift, permissionsRestored, profileExpired, refreshLapseWarning, type Notify } from '../notifications/events';
import { GraphRefusedError, graphRefusalMessage, MicrosoftUnreachableError, ProfileExpiredError, reasonOf } from './errors';
import type { AppProfileRow, AppProfileStore, RefreshUpdate } from './store';

/** Microsoft's refresh tokens lapse after 90 days without use. */
export const REFRESH_TOKEN_INACTIVITY_MS = 90 * 24 * 3600_000;
const ACCESS_TOKEN_MARGIN_MS = 5 * 60_000;
const TRANSIENT_RETRY_DELAYS_MS = [200, 1_000, 3_000];
/** Access tokens kept for reuse (the most recently refreshed profiles'); a sweep of every profile kept them all. */
const ACCESS_TOKEN_CACHE_LIMIT = 2_000;

export interface ProfileHealthDeps {
  store: AppProfileStore;
  box: SecretBox;
  oauth: Pick<MicrosoftOAuth, 'refresh'>;
  audit: AuditLog;
  sleep?: (ms: number) => Promise<void>;
  /** The portal's clock: refresh times, the sweep's schedule and the lapse warnings read it. */
  now?: () => Date;
  notify?: Notify;
  /** How many access tokens are kept for reuse (default 2,000). */
  accessTokenCacheLimit?: number;
}

const profileRef = (row: AppProfileRow) => ({ partnerId: row.partner_id, id: row.id, name: row.name, tenantId: row.tenant_id });

/** Profiles Microsoft did not refresh for 76 or 87 days (unreachable all along) are warned of the 90-day lapse. */
async function warnBeforeLapse(rows: AppProfileRow[], notify: Notify, now: Date): Promise<void> {
  for (const row of rows) {
    const warning = refreshLapseWarning(profileRef(row), row.token_used_at, REFRESH_TOKEN_INACTIVITY_MS, now);
    if (warning) await notify(warning);
  }
}

/**
 * Checks failing since the last successful refresh for 24 hours open a "checks failing" episode; the next
 * successful refresh of a profile with a failure on record resolves it.
 */
async function alertIfFailingLong(row: AppProfileRow, failure: string, notify: Notify, now: Date): Promise<void> {
  const event = checksFailing(profileRef(row), row.token_used_at, failure, now);
  if (event) await notify(event);
}

/** What a successful refresh records: Microsoft's 90-day window restarts, the rotated token, the granted scopes. */
function refreshedColumns(box: SecretBox, profileId: string, tokens: { refreshToken?: string | null; grantedScopes: readonly string[] }, now: string): Partial<AppProfileRow> {
  const changes: Partial<AppProfileRow> = { token_used_at: now, last_checked_at: now, last_check_error_at: null, last_check_error_message: null };
  if (tokens.refreshToken) {
    changes.refresh_token_sealed = box.seal(tokens.refreshToken, refreshTokenAad(profileId));
    changes.refresh_token_key_id = box.currentKeyId;
  }
  if (tokens.grantedScopes.length > 0) changes.granted_scopes = JSON.stringify(tokens.grantedScopes);
  return changes;
}

/**
 * After a successful refresh (`row` as it was before): a failing spell ends, and the granted scopes decide
 * permission drift: permissions missing now open an episode; complete again after missing ones resolve it.
 */
async function alertAfterRefresh(row: AppProfileRow, grantedScopes: readonly string[], notify: Notify): Promise<void> {
  if (row.last_check_error_at) await notify(checksRestored(profileRef(row)));
  if (grantedScopes.length === 0) return;
  const missing = missingPermissions(grantedScopes);
  if (missing.length > 0) await notify(permissionDrift(profileRef(row), missing));
  else if (missingPermissions(JSON.parse(row.granted_scopes) as string[]).length > 0) await notify(permissionsRestored(profileRef(row)));
}

export interface SweepTotals {
  checked: number;
  expired: number;
  unreachable: number;
}

/** How far a sweep got: profiles checked before `checkedBefore` are due; the batches up to `afterId` are done. */
export interface SweepProgress extends SweepTotals {
  checkedBefore: string;
  afterId: string | null;
}

/** Where a sweep starts: from its checkpoint, or from the first batch of profiles checked before `checkedBefore`. */
const sweepStart = (resume: SweepProgress | null | undefined, checkedBefore: Date): SweepProgress =>
  resume ? { ...resume } : { checkedBefore: checkedBefore.toISOString(), afterId: null, checked: 0, expired: 0, unreachable: 0 };

type RefreshWrite = (row: AppProfileRow, changes: Partial<AppProfileRow>) => Promise<void>;
export type ProfileHealth = ReturnType<typeof createProfileHealth>;

/** Binds a sealed refresh token to its profile row: moved to another row, it no longer opens. */
export const refreshTokenAad = (profileId: string) => `app-profile:${profileId}:refresh-token`;

/**
 * Keeps each profile's delegated authorization alive: refreshing rotates the stored refresh token and
 * restarts Microsoft's 90-day inactivity window. Only the token endpoint's permanent refusals
 * (invalid_grant and kin) mark the profile "App authorization expired" with the cause and the fix;
 * transient failures (network, 5xx, 429) are retried with backoff and only recorded as "last check
 * failed", and so is a Graph 401/403 on a data call.
 */
export function createProfileHealth(deps: ProfileHealthDeps) {
  const { store, box, oauth, audit } = deps;
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const clock = deps.now ?? (() => new Date());
  const notify: Notify = deps.notify ?? (async () => undefined);
  const accessTokens = new Map<string, { token: string; expiresAt: number; sealed: string }>();
  const cacheLimit = deps.accessTokenCacheLimit ?? ACCESS_TOKEN_CACHE_LIMIT;

  async function refreshOnce(row: AppProfileRow) {
    const refreshToken = box.open(row.refresh_token_sealed, refreshTokenAad(row.id));
    return oauth.refresh(row.cloud, { tenantId: row.tenant_id, refreshToken, scopes: APP_PROFILE_REFRESH_SCOPES });
  }

  async function markExpired(row: AppProfileRow, reason: StatusReason, via: string): Promise<void> {
    accessTokens.delete(row.id);
    const now = clock().toISOString();
    await store.update(row.partner_id, row.id, {
      status: 'authorization_expired',
      status_code: reason.code,
      status_message: reason.message,
      status_fix: reason.fix,
      last_checked_at: now,
      last_check_error_at: null,
      last_check_error_message: null,
    });
    if (row.status === 'active') {
      await audit.record({
        partnerId: row.partner_id,
        actor: { email: null },
        action: 'app_profile.expired',
        target: { type: 'app_profile', id: row.id, name: row.name },
        outcome: 'failure',
        details: { code: reason.code, tenantId: row.tenant_id, microsoftAccount: row.authorized_by_upn, detectedBy: via },
      });
    }
    // Once per episode however often it is seen; Check now or Re-authorize app ends the episode.
    await notify(profileExpired(profileRef(row), reason));
  }

  const asUpdate = (row: AppProfileRow, changes: Partial<AppProfileRow>): RefreshUpdate => ({ partnerId: row.partner_id, id: row.id, usedSealed: row.refresh_token_sealed, changes });
  const writeNow: RefreshWrite = (row, changes) => store.recordRefresh(asUpdate(row, changes));

  /**
   * Refreshes the authorization now. Answers a fresh access token, or throws ProfileExpiredError /
   * MicrosoftUnreachableError after recording what happened on the profile.
   */
  async function refresh(row: AppProfileRow, via: string, write: RefreshWrite = writeNow): Promise<{ token: string; expiresAt: number }> {
    if (row.status !== 'active') throw new ProfileExpiredError(row.name, reasonOf(row));
    for (let attempt = 0; ; attempt++) {
      try {
        const tokens = await refreshOnce(row);
        const changes = refreshedColumns(box, row.id, tokens, clock().toISOString());
        await write(row, changes);
        await alertAfterRefresh(row, tokens.grantedScopes, notify);
        Object.assign(row, changes);
        const entry = { token: tokens.accessToken, expiresAt: tokens.accessTokenExpiresAt.getTime(), sealed: row.refresh_token_sealed };
        // Newest last: past the limit the token refreshed longest ago goes.
        accessTokens.delete(row.id);
        accessTokens.set(row.id, entry);
        if (accessTokens.size > cacheLimit) accessTokens.delete(accessTokens.keys().next().value!);
        return entry;
      } catch (error) {
        if (error instanceof MicrosoftTokenError) {
          if (errorExpiresAuthorization(error)) {
            const reason = statusReasonFor(error);
            await markExpired(row, reason, via);
            throw new ProfileExpiredError(row.name, reason);
          }
          // A refusal that is not about the grant (e.g. the operator's client secret): not the profile's fault.
          await recordCheckFailure(row, `Microsoft refused the refresh (${statusReasonFor(error).code})`);
          throw new MicrosoftUnreachableError(statusReasonFor(error).code);
        }
        if (error instanceof MicrosoftUnavailableError && attempt < TRANSIENT_RETRY_DELAYS_MS.length) {
          const wait = error.retryAfterSeconds ? Math.min(error.retryAfterSeconds * 1000, 10_000) : TRANSIENT_RETRY_DELAYS_MS[attempt];
          await sleep(wait);
          continue;
        }
        const detail = error instanceof Error ? error.message : 'unknown error';
        await recordCheckFailure(row, detail);
        throw new MicrosoftUnreachableError(error instanceof MicrosoftUnavailableError ? `HTTP ${error.status || error.reason}` : 'unexpected error');
      }
    }
  }

  async function recordCheckFailure(row: AppProfileRow, message: string): Promise<void> {
    await store.update(row.partner_id, row.id, { last_check_error_at: clock().toISOString(), last_check_error_message: message.slice(0, 300) });
    await alertIfFailingLong(row, message.slice(0, 300), notify, clock());
  }

  /** A valid access token for Graph calls through this profile, refreshing when needed. */
  async function accessToken(row: AppProfileRow): Promise<string> {
    const cached = accessTokens.get(row.id);
    if (cached && cached.sealed === row.refresh_token_sealed && cached.expiresAt - ACCESS_TOKEN_MARGIN_MS > Date.now()) return cached.token;
    return (await refresh(row, 'use')).token;
  }

  /**
   * Graph refused a data call (401/403). That alone never expires the profile (a crafted request can make
   * Graph answer 403): a refresh decides. Expired on the token endpoint's verdict; otherwise the profile
   * stays Active and shows "last check failed" with Graph's answer.
   */
  async function confirmAfterRefusal(row: AppProfileRow, error: GraphError): Promise<never> {
    accessTokens.delete(row.id);
    await refresh(row, 'use');
    await recordCheckFailure(row, graphRefusalMessage(error));
    throw new GraphRefusedError(row.name, `${error.status} ${error.code}`);
  }

  return {
    refresh,
    accessToken,
    confirmAfterRefusal,
    recordCheckFailure,

    /** The scheduled sweep (see sweepProfiles). */
    sweep: (options: SweepOptions) => sweepProfiles({ store, clock, notify, refresh: (row, write) => refresh(row, 'schedule', write), asUpdate }, options),
  };
}

interface SweepOptions {
  olderThanMs: number;
  concurrency?: number;
  batchSize?: number;
  resume?: SweepProgress | null;
  onBatch?: (progress: SweepProgress) => Promise<void>;
  signal?: AbortSignal;
}

interface SweepDeps {
  store: AppProfileStore;
  clock: () => Date;
  notify: Notify;
  refresh: (row: AppProfileRow, write: RefreshWrite) => Promise<unknown>;
  asUpdate: (row: AppProfileRow, changes: Partial<AppProfileRow>) => RefreshUpdate;
}

/**
 * The scheduled sweep: refreshes every active profile not checked within `olderThanMs`, batch by batch, with
 * bounded concurrency. `resume` goes on from a checkpoint (the batches before its `afterId` are done); each
 * stored batch is handed to `onBatch` as the next checkpoint. `signal` stops it between batches.
 */
async function sweepProfiles(deps: SweepDeps, options: SweepOptions): Promise<SweepTotals> {
  const { store, clock, notify, refresh, asUpdate } = deps;
  const concurrency = options.concurrency ?? 16;
  const batchSize = options.batchSize ?? 500;
  const progress = sweepStart(options.resume, new Date(clock().getTime() - options.olderThanMs));
  // A batch is written while the next one refreshes (one write at a time): no refresh waits on a write. The
  // checkpoint moves past a batch only once that batch is stored.
  let writing: Promise<void> = Promise.resolve();
  for (;;) {
    options.signal?.throwIfAborted();
    const rows = await store.dueForCheck(progress.checkedBefore, batchSize, progress.afterId);
    if (rows.length === 0) break;
    // Rotated tokens of a batch are written in one transaction: one commit instead of hundreds. A crash
    // loses only rotations (of two batches at most); the previous refresh tokens stay valid at Microsoft.
    const pending: RefreshUpdate[] = [];
    const deferWrite: RefreshWrite = async (row, changes) => void pending.push(asUpdate(row, changes));
    const unrefreshed: AppProfileRow[] = [];
    await mapPool(rows, concurrency, async (row) => {
      try {
        await refresh(row, deferWrite);
        progress.checked++;
      } catch (error) {
        if (error instanceof ProfileExpiredError) progress.expired++;
        else if (error instanceof MicrosoftUnreachableError) {
          progress.unreachable++;
          unrefreshed.push(row);
        } else throw error;
      }
    });
    await writing;
    progress.afterId = rows.at(-1)!.id;
    const checkpoint = { ...progress };
    writing = store
      .recordRefreshes(pending)
      .then(() => warnBeforeLapse(unrefreshed, notify, clock()))
      .then(() => options.onBatch?.(checkpoint));
    writing.catch(() => undefined); // awaited later: not an unhandled rejection meanwhile
  }
  await writing;
  return { checked: progress.checked, expired: progress.expired, unreachable: progress.unreachable };
}
