import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/server/http/logging';

describe('log redaction', () => {
  it('removes one-time codes and tokens from logged URLs', () => {
    const url = '/auth/microsoft/callback?code=0.AAA-secret&state=abc123&session_state=xyz';
    const logged = redactUrl(url);
    expect(logged).not.toContain('0.AAA-secret');
    expect(logged).not.toContain('abc123');
    expect(logged).toBe('/auth/microsoft/callback?code=[REDACTED]&state=[REDACTED]&session_state=[REDACTED]');
    expect(redactUrl('/api/users?search=bob')).toBe('/api/users?search=bob');
  });

  it('removes the single-use token of a consent link from its path, and keeps the outcome page readable', () => {
    const token = 'Qx7-secret_token_of_43_characters_abcdefghij';
    expect(redactUrl(`/consent/${token}`)).toBe('/consent/[REDACTED]');
    expect(redactUrl(`/consent/${token}/continue`)).toBe('/consent/[REDACTED]/continue');
    expect(redactUrl(`/consent/${token}?x=1`)).toBe('/consent/[REDACTED]?x=1');
    expect(redactUrl('/consent/done?link=abc')).toBe('/consent/done?link=abc');
    expect(redactUrl('/api/consent-links/abc')).toBe('/api/consent-links/abc');
  });
});
