import { sql } from 'kysely';
import { refreshTokenAad } from '../app-profiles/health';
import { flowContinueAad, flowSecretsAad } from '../auth-flows/store';
import type { Db, Engine } from '../db/database';
import { ssoChoicesAad } from '../sso/choice-store';
import { webhookSecretAad } from '../webhooks/channel';
import type { SecretBox } from './secret-box';

/** Every column that holds a secret sealed by the secret box, with what binds it to its row. */
interface SealedColumn {
  table: 'app_profiles' | 'oauth_flows' | 'sso_choices' | 'webhooks';
  column: string;
  aad: (id: string) => string;
  /** Columns written together with a re-sealed value (the key id kept beside a refresh token). */
  alongside?: (box: SecretBox) => Record<string, string>;
}

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'app_profiles', column: 'refresh_token_sealed', aad: refreshTokenAad, alongside: (box) => ({ refresh_token_key_id: box.currentKeyId }) },
  { table: 'oauth_flows', column: 'secrets_sealed', aad: flowSecretsAad },
  { table: 'oauth_flows', column: 'continue_url', aad: flowContinueAad },
  { table: 'sso_choices', column: 'choices_sealed', aad: ssoChoicesAad },
  { table: 'webhooks', column: 'secret_sealed', aad: webhookSecretAad },
];

const label = (c: SealedColumn) => `${c.table}.${c.column}`;

/** Typed error with a stable code: start-up stops on it and nothing is written. */
export class StoredSecretsError extends Error {
  readonly code = 'STORED_SECRETS_UNREADABLE';
}

/** The key id of a `v1.<keyId>.…` ciphertext, computed by the database (no secret leaves it). */
function keyIdOf(engine: Engine, column: string) {
  return engine === 'postgres'
    ? sql<string>`split_part(${sql.ref(column)}, '.', 2)`
    : sql<string>`substr(${sql.ref(column)}, 4, instr(substr(${sql.ref(column)}, 4), '.') - 1)`;
}

export interface KeyUse {
  secret: string;
  keyId: string;
  count: number;
}

/** How many stored secrets each key id sealed, per column (`npm run keys -- status`). */
export async function sealedSecretCounts(db: Db, engine: Engine, jobFields?: SealedJobField[]): Promise<KeyUse[]> {
  const uses: KeyUse[] = [];
  for (const c of SEALED_COLUMNS) {
    const keyId = keyIdOf(engine, c.column);
    const { rows } = await sql<{ key_id: string; n: number | string }>`
      select ${keyId} as key_id, count(*) as n from ${sql.table(c.table)}
      where ${sql.ref(c.column)} is not null group by ${keyId} order by 1`.execute(db);
    for (const row of rows) uses.push({ secret: label(c), keyId: row.key_id, count: Number(row.n) });
  }
  const inJobs = new Map<string, KeyUse>();
  for (const { field, sealed } of jobFields ?? (await sealedJobFields(db))) {
    const keyId = sealed.split('.')[1] ?? '?';
    const secret = `jobs.payload.${field}`;
    const use = inJobs.get(`${secret} ${keyId}`) ?? { secret, keyId, count: 0 };
    use.count++;
    inJobs.set(`${secret} ${keyId}`, use);
  }
  return [...uses, ...inJobs.values()];
}

/**
 * Queued work can hold secrets too: a job payload field named `sealed…` (a consent link or an activation link
 * waiting to be mailed) is sealed with the job's key as its binding, and blanked when the job is done.
 */
const SEALED_PAYLOAD_FIELD = /^sealed[A-Z]/;

interface SealedJobField {
  id: string;
  key: string;
  payload: string;
  field: string;
  sealed: string;
}

/**
 * Every sealed field of every unfinished job's payload (few: mail waiting to go out), read in pages of
 * `batchSize`. A done job's link is blanked and never opened again, so done jobs are not read.
 */
async function sealedJobFields(db: Db, batchSize = 500): Promise<SealedJobField[]> {
  const fields: SealedJobField[] = [];
  let after = '';
  for (;;) {
    const rows = await db.selectFrom('jobs').select(['id', 'key', 'payload']).where('state', '!=', 'done').where('payload', 'like', '%"sealed%').where('id', '>', after).orderBy('id').limit(batchSize).execute();
    if (rows.length === 0) return fields;
    for (const row of rows) {
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(row.payload) as Record<string, unknown>;
      } catch {
        continue;
      }
      for (const [field, value] of Object.entries(payload)) {
        if (SEALED_PAYLOAD_FIELD.test(field) && typeof value === 'string' && value.startsWith('v1.')) fields.push({ ...row, field, sealed: value });
      }
    }
    after = rows[rows.length - 1].id;
  }
}

/**
 * Start-up guard: every key id that sealed a stored secret must be configured, and must open one of
 * them (a key with the right id but the wrong material). Reads only; throws before anything can write.
 */
export async function verifyStoredSecrets(db: Db, engine: Engine, box: SecretBox, configuredKeyIds: readonly string[]): Promise<void> {
  // Read once: start-up scans the waiting jobs' payloads for both the counts and the samples.
  const jobFields = await sealedJobFields(db);
  const uses = await sealedSecretCounts(db, engine, jobFields);
  const missing = [...new Set(uses.filter((u) => !configuredKeyIds.includes(u.keyId)).map((u) => u.keyId))];
  if (missing.length > 0) {
    const count = uses.filter((u) => missing.includes(u.keyId)).reduce((n, u) => n + u.count, 0);
    throw new StoredSecretsError(
      `${count} stored secret(s) are sealed with encryption key id(s) ${missing.join(', ')}, which TENANTGATE_ENCRYPTION_KEYS (or the sandbox key file) does not list. ` +
        `Add the key(s) back (keyId:base64key, after the current one); nothing was changed. See docs/deploying.md "Key rotation".`,
    );
  }
  for (const c of SEALED_COLUMNS) {
    for (const use of uses.filter((u) => u.secret === label(c))) {
      const { rows } = await sql<{ id: string; sealed: string }>`
        select id, ${sql.ref(c.column)} as sealed from ${sql.table(c.table)}
        where ${sql.ref(c.column)} is not null and ${keyIdOf(engine, c.column)} = ${use.keyId} limit 1`.execute(db);
      const sample = rows[0];
      if (!sample) continue;
      if (!opens(box, sample.sealed, c.aad(sample.id))) throw wrongKey(use.keyId, label(c));
    }
  }
  const sampled = new Set<string>();
  for (const job of jobFields) {
    const keyId = job.sealed.split('.')[1] ?? '?';
    if (sampled.has(keyId)) continue;
    sampled.add(keyId);
    if (!opens(box, job.sealed, job.key)) throw wrongKey(keyId, `jobs.payload.${job.field}`);
  }
}

function opens(box: SecretBox, sealed: string, aad: string): boolean {
  try {
    box.open(sealed, aad);
    return true;
  } catch {
    return false;
  }
}

function wrongKey(keyId: string, secret: string): StoredSecretsError {
  return new StoredSecretsError(
    `The encryption key with id ${keyId} does not open the secrets sealed with it (${secret}): TENANTGATE_ENCRYPTION_KEYS (or the sandbox key file) holds different key material under that id. ` +
      `Put back the key that sealed them; nothing was changed. See docs/deploying.md "Key rotation".`,
  );
}

export interface RotationTotals {
  resealed: number;
  /** Changed by an instance between our read and our write: that instance sealed it with the current key. */
  skippedChanged: number;
  /** Could not be opened with any configured key: left as they are, listed by `status`. */
  unreadable: number;
}

/**
 * Re-seals every stored secret not sealed with the current (first) key, in batches. Safe while
 * instances run: each write is conditional on the ciphertext read, so a secret an instance rotated
 * meanwhile (a refresh) is left to that instance's newer value.
 */
export async function rotateStoredSecrets(db: Db, box: SecretBox, options: { batchSize?: number; onBatch?: (totals: RotationTotals) => void } = {}): Promise<RotationTotals> {
  const batchSize = options.batchSize ?? 500;
  const totals: RotationTotals = { resealed: 0, skippedChanged: 0, unreadable: 0 };
  const currentPrefix = `v1.${box.currentKeyId}.`;
  for (const c of SEALED_COLUMNS) {
    let after = '';
    for (;;) {
      const { rows } = await sql<{ id: string; sealed: string }>`
        select id, ${sql.ref(c.column)} as sealed from ${sql.table(c.table)}
        where ${sql.ref(c.column)} is not null
          and substr(${sql.ref(c.column)}, 1, ${currentPrefix.length}) <> ${currentPrefix}
          and id > ${after}
        order by id limit ${batchSize}`.execute(db);
      if (rows.length === 0) break;
      for (const row of rows) {
        let plaintext: string;
        try {
          plaintext = box.open(row.sealed, c.aad(row.id));
        } catch {
          totals.unreadable++;
          continue;
        }
        const changes = { [c.column]: box.seal(plaintext, c.aad(row.id)), ...(c.alongside?.(box) ?? {}) };
        const assignments = sql.join(Object.entries(changes).map(([name, value]) => sql`${sql.ref(name)} = ${value}`));
        const result = await sql`update ${sql.table(c.table)} set ${assignments} where id = ${row.id} and ${sql.ref(c.column)} = ${row.sealed}`.execute(db);
        if (Number(result.numAffectedRows ?? 0) === 1) totals.resealed++;
        else totals.skippedChanged++;
      }
      after = rows[rows.length - 1].id;
      options.onBatch?.({ ...totals });
    }
  }
  await rotateJobPayloads(db, box, totals, currentPrefix);
  options.onBatch?.({ ...totals });
  return totals;
}

/** Re-seals the sealed fields of queued jobs, each write conditional on the payload read (a worker may finish it). */
async function rotateJobPayloads(db: Db, box: SecretBox, totals: RotationTotals, currentPrefix: string): Promise<void> {
  const stale = (await sealedJobFields(db)).filter((f) => !f.sealed.startsWith(currentPrefix));
  const byJob = new Map<string, SealedJobField[]>();
  for (const f of stale) byJob.set(f.id, [...(byJob.get(f.id) ?? []), f]);
  for (const fields of byJob.values()) {
    const { id, key, payload } = fields[0];
    const next = JSON.parse(payload) as Record<string, unknown>;
    let resealed = 0;
    for (const f of fields) {
      if (!opens(box, f.sealed, key)) {
        totals.unreadable++;
        continue;
      }
      next[f.field] = box.seal(box.open(f.sealed, key), key);
      resealed++;
    }
    if (resealed === 0) continue;
    const result = await db.updateTable('jobs').set({ payload: JSON.stringify(next) }).where('id', '=', id).where('payload', '=', payload).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) totals.resealed += resealed;
    else totals.skippedChanged += resealed;
  }
}
