import type { Db } from '../db/database';
import type { OAuthFlowsTable } from '../db/tables';
import type { Cloud } from '../microsoft/clouds';
import { sha256 } from '../security/random';
import type { SecretBox } from '../security/secret-box';

/** A round trip to Microsoft lives 10 minutes and is redeemed once. */
export const FLOW_LIFETIME_MS = 10 * 60_000;

export type FlowPurpose = OAuthFlowsTable['purpose'];

export interface NewFlow {
  purpose: FlowPurpose;
  state: string;
  nonce: string;
  codeVerifier: string;
  browserBinding: string;
  sessionId?: string | null;
  partnerId?: string | null;
  userId?: string | null;
  cloud: Cloud;
  profileId?: string | null;
  profileName?: string | null;
  account?: 'current' | 'another' | null;
  loginHint?: string | null;
  returnTo?: string | null;
  continueUrl?: string | null;
  consentLinkId?: string | null;
}

export interface RedeemedFlow {
  id: string;
  purpose: FlowPurpose;
  sessionId: string | null;
  partnerId: string | null;
  userId: string | null;
  cloud: Cloud;
  profileId: string | null;
  profileName: string | null;
  account: 'current' | 'another' | null;
  loginHint: string | null;
  returnTo: string | null;
  consentLinkId: string | null;
  nonce: string;
  codeVerifier: string;
}

export type FlowStore = ReturnType<typeof createFlowStore>;

/** What binds a flow's sealed secrets (nonce, PKCE verifier) and continue URL to its row (also used by key rotation). */
export const flowSecretsAad = (id: string) => id;
export const flowContinueAad = (id: string) => `${id}:continue`;

/**
 * Pending authorizations. Only the SHA-256 of `state` is stored; nonce and PKCE verifier are sealed.
 * A flow is bound to the browser that started it and is consumed by one atomic update, so a replayed,
 * forged or stale callback finds nothing to act on.
 */
export function createFlowStore(db: Db, box: SecretBox) {
  return {
    async create(flow: NewFlow): Promise<void> {
      const id = sha256(flow.state);
      const now = Date.now();
      await db
        .insertInto('oauth_flows')
        .values({
          id,
          purpose: flow.purpose,
          browser_binding: sha256(flow.browserBinding),
          session_id: flow.sessionId ?? null,
          partner_id: flow.partnerId ?? null,
          user_id: flow.userId ?? null,
          cloud: flow.cloud,
          profile_id: flow.profileId ?? null,
          profile_name: flow.profileName ?? null,
          account: flow.account ?? null,
          login_hint: flow.loginHint ?? null,
          secrets_sealed: box.seal(JSON.stringify({ nonce: flow.nonce, codeVerifier: flow.codeVerifier }), flowSecretsAad(id)),
          return_to: flow.returnTo ?? null,
          continue_url: flow.continueUrl ? box.seal(flow.continueUrl, flowContinueAad(id)) : null,
          consent_link_id: flow.consentLinkId ?? null,
          created_at: new Date(now).toISOString(),
          expires_at: new Date(now + FLOW_LIFETIME_MS).toISOString(),
          used_at: null,
        })
        .execute();
    },

    /** Consumes the flow for this state if it is pending, fresh and started by this browser. */
    async redeem(state: string, browserBinding: string | undefined): Promise<RedeemedFlow | null> {
      if (!state || state.length > 200 || !browserBinding) return null;
      const id = sha256(state);
      const now = new Date().toISOString();
      const claimed = await db
        .updateTable('oauth_flows')
        .set({ used_at: now })
        .where('id', '=', id)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .where('browser_binding', '=', sha256(browserBinding))
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) return null;
      const row = await db.selectFrom('oauth_flows').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const secrets = JSON.parse(box.open(row.secrets_sealed, flowSecretsAad(id))) as { nonce: string; codeVerifier: string };
      return {
        id,
        purpose: row.purpose,
        sessionId: row.session_id,
        partnerId: row.partner_id,
        userId: row.user_id,
        cloud: row.cloud,
        profileId: row.profile_id,
        profileName: row.profile_name,
        account: row.account,
        loginHint: row.login_hint,
        returnTo: row.return_to,
        consentLinkId: row.consent_link_id ?? null,
        ...secrets,
      };
    },

    /**
     * "Sign out and use another account": after Microsoft signs the browser out, the newest pending
     * flow of this browser that waits for it continues to Microsoft's sign-in.
     */
    async takeContinuation(browserBinding: string | undefined): Promise<string | null> {
      if (!browserBinding) return null;
      const now = new Date().toISOString();
      const row = await db
        .selectFrom('oauth_flows')
        .select(['id', 'continue_url'])
        .where('browser_binding', '=', sha256(browserBinding))
        .where('continue_url', 'is not', null)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .orderBy('created_at', 'desc')
        .executeTakeFirst();
      if (!row?.continue_url) return null;
      await db.updateTable('oauth_flows').set({ continue_url: null }).where('id', '=', row.id).execute();
      return box.open(row.continue_url, flowContinueAad(row.id));
    },

    async purgeExpired(): Promise<void> {
      await db.deleteFrom('oauth_flows').where('expires_at', '<', new Date(Date.now() - FLOW_LIFETIME_MS).toISOString()).execute();
    },
  };
}
