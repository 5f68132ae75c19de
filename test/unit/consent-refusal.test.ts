import { describe, expect, it } from 'vitest';
import { consentRefusal } from '../../src/server/app-profiles/consent';

describe('app profile consent: errors on the redirect', () => {
  it('names the cause the administrator can act on', () => {
    expect(consentRefusal({ error: 'access_denied', errorDescription: 'AADSTS90094: The grant requires admin permission.' }).code).toBe('NOT_GLOBAL_ADMIN');
    expect(consentRefusal({ error: 'access_denied', errorDescription: 'AADSTS65004: User declined to consent.' }).code).toBe('CONSENT_CANCELLED');
    expect(consentRefusal({ error: 'access_denied' }).code).toBe('CONSENT_CANCELLED');
    expect(consentRefusal({ error: 'invalid_request', errorDescription: 'AADSTS50011: The redirect URI does not match.' }).code).toBe('AADSTS50011');
    const unknown = consentRefusal({ error: 'server_error' });
    expect(unknown.code).toBe('MICROSOFT_ERROR');
    expect(unknown.extra.details).toEqual({ error: 'server_error' });
  });
});
