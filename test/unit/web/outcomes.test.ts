import { describe, expect, it } from 'vitest';
import {
  readRoundTripResult,
  roundTripOutcome,
  safeNextPath,
  signInErrorMessage,
  withoutRoundTripParams,
} from '../../../src/web/outcomes';
import { ROUND_TRIP_REFUSAL_CODES } from '../../../src/server/auth-flows/outcome';
import { AADSTS_CODES } from '../../../src/server/microsoft/aadsts';
import { SSO_REFUSAL_CODES } from '../../../src/server/sso/decisions';
import { REDIRECT_PAYLOADS, sameOrigin } from '../../support/redirect-payloads';

const parse = (search: string) => {
  const result = readRoundTripResult(new URLSearchParams(search));
  if (!result) throw new Error('no result');
  return result;
};

describe('round-trip outcome messages', () => {
  it('reports creation and re-authorization as successes', () => {
    expect(roundTripOutcome(parse('result=created'))).toEqual({ intent: 'success', message: 'App profile created.' });
    expect(roundTripOutcome(parse('result=reauthorized'))).toEqual({
      intent: 'success',
      message: 'App authorized again.',
    });
  });

  it('names the profile that already connects the tenant', () => {
    const outcome = roundTripOutcome(parse('result=error&code=TENANT_ALREADY_CONNECTED&profileId=p1'), 'Contoso');
    expect(outcome.intent).toBe('error');
    expect(outcome.message).toBe(
      'This Microsoft 365 tenant is already connected as app profile “Contoso”. Use Re-authorize app on that profile instead.',
    );
  });

  it('lists the missing permissions', () => {
    const outcome = roundTripOutcome(parse('result=error&code=MISSING_PERMISSIONS&missing=Group.Read.All,Domain.Read.All'));
    expect(outcome.message).toBe(
      'The consent did not grant every required permission. Missing: Group.Read.All, Domain.Read.All. Nothing was changed. Start again as a Global Administrator and accept every permission; if the tenant’s app consent policy blocks one, allow it in Microsoft Entra first.',
    );
  });

  it('explains a cancelled consent and falls back for unknown codes', () => {
    expect(roundTripOutcome(parse('result=error&code=CONSENT_CANCELLED')).message).toBe(
      'Consent was cancelled at Microsoft. Nothing was changed. Try again and click Accept.',
    );
    // A Microsoft code the table does not know still gets what to do, with the code for the look-up.
    const unknown = roundTripOutcome(parse('result=error&code=AADSTS50020')).message;
    expect(unknown).toContain('Microsoft refused the request (AADSTS50020).');
    expect(unknown).toContain('Try again later.');
    expect(unknown).not.toContain('Microsoft returned an error');
  });

  it('explains the 90-day lapse with its cause and fix', () => {
    expect(roundTripOutcome(parse('result=error&code=AADSTS700082')).message).toBe(
      'The authorization expired because it was not used for 90 days. Authorize the app profile again with a Global Administrator account of the tenant. Nothing was changed. (AADSTS700082)',
    );
  });

  it('ignores URLs without a result and strips only the round-trip parameters', () => {
    expect(readRoundTripResult(new URLSearchParams('add=1'))).toBeNull();
    const rest = withoutRoundTripParams(new URLSearchParams('result=error&code=X&profileId=p&missing=A&add=1'));
    expect(rest.toString()).toBe('add=1');
  });
});

describe('sign-in errors and next paths', () => {
  it('maps known sign-in errors and keeps unknown codes visible', () => {
    expect(signInErrorMessage('NOT_ADDED')).toBe(
      'Your Microsoft 365 account has not been added to Tenantgate. Ask your administrator.',
    );
    expect(signInErrorMessage('WHATEVER')).toContain('WHATEVER');
  });

  it('follows only same-origin paths', () => {
    expect(safeNextPath('/settings/users?add=1')).toBe('/settings/users?add=1');
    expect(safeNextPath('//evil.example/x')).toBe('/');
    expect(safeNextPath('/\\evil.example')).toBe('/');
    expect(safeNextPath('https://evil.example/')).toBe('/');
    expect(safeNextPath(null)).toBe('/');
  });
});

describe('safeNextPath (sign-in `next`, the Create dialog `returnTo`)', () => {
  const origin = 'https://portal.example';

  it(`never leaves the portal's origin (${REDIRECT_PAYLOADS.length} payloads)`, () => {
    const offsite = REDIRECT_PAYLOADS.filter((payload) => !sameOrigin(safeNextPath(payload), origin));
    expect(offsite).toEqual([]);
    for (const payload of REDIRECT_PAYLOADS) expect(safeNextPath(payload)).toBe('/');
  });

  it('follows the portal pages it is given, with their query', () => {
    expect(safeNextPath('/settings/users?add=1')).toBe('/settings/users?add=1');
    expect(safeNextPath('/settings/app-profiles?create=1&returnTo=%2Fsettings%2Fusers%3Fadd%3D1')).toBe('/settings/app-profiles?create=1&returnTo=%2Fsettings%2Fusers%3Fadd%3D1');
    expect(safeNextPath('/')).toBe('/');
    expect(safeNextPath('/unknown-page')).toBe('/');
  });
});

describe('round-trip messages name the profile', () => {
  it('says which app profile was created or authorized again', () => {
    const created = readRoundTripResult(new URLSearchParams('result=created&profileId=p1'))!;
    expect(roundTripOutcome(created, 'Contoso production').message).toBe('App profile created. “Contoso production” is active.');
    const again = readRoundTripResult(new URLSearchParams('result=reauthorized&profileId=p1'))!;
    expect(roundTripOutcome(again, 'Contoso production').message).toBe('App authorized again. “Contoso production” is active.');
  });
});

/** Every code the server can put on an outcome page or the sign-in page, and what a person must read there. */
describe('every outcome code has a sentence a person can act on', () => {
  const roundTripCodes = [...ROUND_TRIP_REFUSAL_CODES, ...AADSTS_CODES.map((code) => `AADSTS${code}`)];
  // Words of an instruction: each message tells the reader what to do next.
  const actionable = /\b(try|start|sign|ask|use|choose|create|authorize|check|have|pick|select|the portal operator must)\b/i;

  it.each(roundTripCodes)('round trip: %s', (code) => {
    const message = roundTripOutcome(parse(`result=error&code=${code}&missing=Group.Read.All`), 'Contoso').message;
    expect(message).not.toMatch(/^Microsoft returned an error/);
    expect(message).not.toMatch(/The round trip to Microsoft did not finish/); // the fallback for codes nobody knows
    expect(message.replace(/\s*\(AADSTS\d+\)$/, '')).not.toMatch(/\bMICROSOFT_ERROR\b|\bAADSTS\d+\b|\b[A-Z]+_[A-Z_]+\b/);
    expect(message).toMatch(actionable);
  });

  it.each([...SSO_REFUSAL_CODES])('sign-in page: %s', (code) => {
    const message = signInErrorMessage(code);
    expect(message).not.toContain(code);
    expect(message).toMatch(actionable);
  });
});
