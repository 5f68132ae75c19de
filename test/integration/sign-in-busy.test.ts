import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { startTestPortal, type TestPortal } from '../support/portal';

/**
 * Found by `npm run load`: a sign-in refused with 503 SERVER_BUSY (the password was never hashed) counted
 * as a failed attempt, so a busy minute locked honest people out for up to 15 minutes.
 */
describe('sign-in while password hashing is saturated', () => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal('sqlite', { TENANTGATE_PASSWORD_HASH_CONCURRENCY: '1', TENANTGATE_PASSWORD_HASH_QUEUE: '0' });
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('a 503 SERVER_BUSY answer is no failed attempt: the person signs in right after, without a lock-out', async () => {
    const a = await signUpPartner(portal.url, 'Busy A');
    const b = await signUpPartner(portal.url, 'Busy B');
    // B's sign-in takes the only hashing slot; A's burst finds it full.
    const occupying = new ApiClient(portal.url).post('/api/session', { email: b.email, password: b.password });
    await new Promise((resolve) => setTimeout(resolve, 30));
    const burst = await Promise.all(Array.from({ length: 7 }, () => new ApiClient(portal.url).post('/api/session', { email: a.email, password: a.password })));
    await occupying;
    expect(burst.map((r) => `${r.status} ${r.body?.error?.code ?? ''}`.trim())).toContain('503 SERVER_BUSY');
    expect(burst.filter((r) => r.status === 503).every((r) => r.headers.get('retry-after') === '2')).toBe(true);
    const later = await new ApiClient(portal.url).post('/api/session', { email: a.email, password: a.password });
    expect(later.status, JSON.stringify(later.body)).toBe(200);
  });
});

describe('sign-in of a crowd behind one address while password hashing queues', () => {
  let portal: TestPortal;
  beforeAll(async () => {
    // One hash at a time and a long queue: most sign-ins wait their turn, as on a busy server.
    portal = await startTestPortal('sqlite', { TENANTGATE_PASSWORD_HASH_CONCURRENCY: '1', TENANTGATE_PASSWORD_HASH_QUEUE: '30' });
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('many people signing in at once from one address (an office) are answered 200 or 503, never "too many failed attempts"', async () => {
    const people: Awaited<ReturnType<typeof signUpPartner>>[] = [];
    for (let i = 0; i < 4; i++) people.push(await signUpPartner(portal.url, `Office ${i}`));
    // Found by the 200-client load run on PostgreSQL: each sign-in was counted against the address before the
    // server knew it could check the password, so 30 honest sign-ins in flight at once read as 30 failures.
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const person = people[i % people.length];
        return new ApiClient(portal.url).post('/api/session', { email: person.email, password: person.password });
      }),
    );
    const statuses = answers.map((r) => `${r.status} ${r.body?.error?.code ?? ''}`.trim());
    expect(statuses.filter((s) => s !== '200' && s !== '503 SERVER_BUSY'), statuses.join(', ')).toEqual([]);
    expect(statuses).toContain('200');
  });
});
