import type { Db } from '../db/database';
import { randomToken, sha256 } from '../security/random';
import type { SecretBox } from '../security/secret-box';

const CHOICE_LIFETIME_MS = 10 * 60_000;

/** A partner a person may enter after a Microsoft 365 sign-in that several partners allowed. */
export interface PartnerChoice {
  partnerId: string;
  partnerName: string;
  userId: string;
  /** The highest role of the added groups that let this person in (a direct entry's own role may be lower). */
  groupRole?: 'administrator' | 'member' | null;
}

/** What binds a sealed choice list to its row (also used by key rotation). */
export const ssoChoicesAad = (id: string) => `${id}:sso-choices`;

/**
 * Pending partner choices, sealed and bound to the browser that signed in (the SHA-256 of its binding):
 * the only writer of `sso_choices`. A choice lives 10 minutes and is taken once.
 */
export function createChoiceStore(db: Db, box: SecretBox) {
  const aad = ssoChoicesAad;
  return {
    async create(bindingHash: string, choices: PartnerChoice[]): Promise<void> {
      const id = sha256(randomToken());
      const now = Date.now();
      await db
        .insertInto('sso_choices')
        .values({
          id,
          browser_binding: bindingHash,
          choices_sealed: box.seal(JSON.stringify(choices), aad(id)),
          created_at: new Date(now).toISOString(),
          expires_at: new Date(now + CHOICE_LIFETIME_MS).toISOString(),
          used_at: null,
        })
        .execute();
    },

    /** The newest open choice of this browser (by its binding cookie value). */
    async pending(binding: string | undefined): Promise<{ id: string; choices: PartnerChoice[] } | null> {
      if (!binding) return null;
      const row = await db
        .selectFrom('sso_choices')
        .select(['id', 'choices_sealed'])
        .where('browser_binding', '=', sha256(binding))
        .where('used_at', 'is', null)
        .where('expires_at', '>', new Date().toISOString())
        .orderBy('created_at', 'desc')
        .executeTakeFirst();
      if (!row) return null;
      return { id: row.id, choices: JSON.parse(box.open(row.choices_sealed, aad(row.id))) as PartnerChoice[] };
    },

    /** Spends the choice; false when another request took it first. */
    async take(id: string): Promise<boolean> {
      const claimed = await db.updateTable('sso_choices').set({ used_at: new Date().toISOString() }).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst();
      return Number(claimed.numUpdatedRows) === 1;
    },

    async purgeExpired(): Promise<void> {
      await db.deleteFrom('sso_choices').where('expires_at', '<', new Date().toISOString()).execute();
    },
  };
}
