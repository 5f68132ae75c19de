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
});
