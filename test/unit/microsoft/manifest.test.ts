import { describe, expect, it } from 'vitest';
import { buildManifestReport, formatManifestReport } from '../../../src/server/microsoft/print-manifest';

describe('print-manifest', () => {
  it('derives redirect URIs from PUBLIC_URL for both clouds', () => {
    const report = buildManifestReport('https://portal.example.com/');
    for (const cloud of ['global', 'usgov'] as const) {
      expect(report.clouds[cloud].redirectUris).toEqual(['https://portal.example.com/auth/microsoft/callback']);
      expect(report.clouds[cloud].postLogoutRedirectUris).toEqual(['https://portal.example.com/auth/microsoft/signed-out']);
    }
    expect(report.requiredResourceAccess[0].resourceAccess).toHaveLength(11);
    const text = formatManifestReport(report);
    expect(text).toContain('"resourceAppId": "00000003-0000-0000-c000-000000000000"');
    expect(text).toContain('Microsoft 365 U.S. Government');
  });

  it('defaults to http://localhost:3000 and rejects a malformed URL', () => {
    expect(buildManifestReport(undefined).clouds.global.redirectUris).toEqual(['http://localhost:3000/auth/microsoft/callback']);
    expect(() => buildManifestReport('not a url')).toThrow(/PUBLIC_URL/);
  });
});
