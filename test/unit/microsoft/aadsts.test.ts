import { describe, expect, it } from 'vitest';
import {
  AADSTS,
  AADSTS_CODES,
  describeAadsts,
  errorExpiresAuthorization,
  statusReasonFor,
} from '../../../src/server/microsoft/aadsts';
import { MicrosoftTokenError } from '../../../src/server/microsoft/errors';

const tokenError = (error: string, errorCodes: number[]) => new MicrosoftTokenError({ error, errorCodes, status: 400 });

describe('AADSTS table', () => {
  it('explains every code the portal may meet, with a cause and a fix', () => {
    expect([...AADSTS_CODES].sort()).toEqual(
      [700082, 70008, 50173, 70043, 65001, 65004, 50076, 50079, 50078, 53003, 50057, 90002, 700016, 7000215, 7000222, 90094, 50126, 54005, 501481, 50011, 50058].sort(),
    );
    for (const code of AADSTS_CODES) {
      expect(AADSTS[code].cause.length).toBeGreaterThan(10);
      expect(AADSTS[code].fix.length).toBeGreaterThan(10);
    }
    expect(AADSTS[700082].cause).toMatch(/90 days/);
    expect(AADSTS[90094].cause).toMatch(/approval/i);
  });

  it('marks dead grants as expiring the authorization, operator and sign-in mistakes as not', () => {
    for (const code of [700082, 70008, 50173, 70043, 65001, 50076, 53003, 50057] as const) {
      expect(AADSTS[code].expiresAuthorization).toBe(true);
    }
    for (const code of [7000215, 7000222, 65004, 50126, 54005, 501481, 50011] as const) {
      expect(AADSTS[code].expiresAuthorization).toBe(false);
    }
  });

  it('has a sensible default for an unknown code', () => {
    const info = describeAadsts(12345);
    expect(info.cause).toContain('AADSTS12345');
    expect(info.expiresAuthorization).toBe(false);
    expect(describeAadsts(50173)).toBe(AADSTS[50173]);
  });
});

describe('statusReasonFor', () => {
  it('gives the AADSTS code with its cause and fix', () => {
    const reason = statusReasonFor(tokenError('invalid_grant', [700082]));
    expect(reason).toEqual({ code: 'AADSTS700082', message: AADSTS[700082].cause, fix: AADSTS[700082].fix });
  });

  it('prefers a known code when Microsoft lists several', () => {
    expect(statusReasonFor(tokenError('invalid_grant', [9999999, 50173])).code).toBe('AADSTS50173');
  });

  it('falls back to the OAuth error when there is no code', () => {
    const reason = statusReasonFor(tokenError('invalid_grant', []));
    expect(reason.code).toBe('invalid_grant');
    expect(reason.fix).toMatch(/Authorize the app profile again/);
    expect(statusReasonFor(tokenError('invalid_request', [])).code).toBe('invalid_request');
  });
});

describe('errorExpiresAuthorization', () => {
  it('follows the table for known codes and the OAuth error otherwise', () => {
    expect(errorExpiresAuthorization(tokenError('invalid_grant', [50173]))).toBe(true);
    expect(errorExpiresAuthorization(tokenError('invalid_client', [7000222]))).toBe(false);
    expect(errorExpiresAuthorization(tokenError('interaction_required', []))).toBe(true);
    expect(errorExpiresAuthorization(tokenError('invalid_grant', [424242]))).toBe(true);
    expect(errorExpiresAuthorization(tokenError('invalid_request', []))).toBe(false);
  });
});
