import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../src/server/http/error-handler';
import { TooManyRequestsError } from '../../src/server/http/errors';
import { loggerOptions, OneLinePerRequest, redactUrl } from '../../src/server/http/logging';
import { createRefusalHold } from '../../src/server/security/refusal-hold';

/** A stream that keeps each JSON log line it is given. */
function capturingSink() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { sink, lines };
}

/** A logger configured as the portal's, writing its lines into an array. */
function capturingLogger() {
  const { sink, lines } = capturingSink();
  return { log: Fastify({ logger: loggerOptions('info', sink) }).log, lines };
}

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

describe('secrets in log entries', () => {
  it('censors secret names at the top of an entry and one level down, and credential headers', () => {
    const { log, lines } = capturingLogger();
    const body = { email: 'pat@example.test', password: 'hunter2-secret', newPassword: 'n3w-secret' };
    log.info({ body, token: 'top-level-secret', profile: { id: 'p1', refreshToken: 'rt-secret', refresh_token: 'rt2-secret' } }, 'entry');
    log.info({ upstream: { headers: { authorization: 'Bearer abc-secret', cookie: 'tg_session=s-secret', 'set-cookie': 'x-secret', accept: 'application/json' } } }, 'headers');
    const [first, second] = lines;
    expect(first).toMatchObject({ body: { email: 'pat@example.test', password: '[REDACTED]', newPassword: '[REDACTED]' }, token: '[REDACTED]', profile: { id: 'p1', refreshToken: '[REDACTED]', refresh_token: '[REDACTED]' } });
    expect(second).toMatchObject({ upstream: { headers: { authorization: '[REDACTED]', cookie: '[REDACTED]', 'set-cookie': '[REDACTED]', accept: 'application/json' } } });
    expect(JSON.stringify(lines)).not.toMatch(/secret/);
    // The logged objects themselves are left as they were.
    expect(body.password).toBe('hunter2-secret');
  });

  it('keeps an error readable while censoring a secret it carries', () => {
    const { log, lines } = capturingLogger();
    log.error({ err: Object.assign(new Error('token endpoint refused'), { accessToken: 'at-secret', status: 400 }) }, 'failed');
    expect(lines[0].err).toMatchObject({ message: 'token endpoint refused', accessToken: '[REDACTED]', status: 400 });
    expect(JSON.stringify(lines)).not.toContain('at-secret');
  });

  it('leaves entries without secrets untouched and writes a request line without copying it', () => {
    const { log, lines } = capturingLogger();
    log.info({ req: { method: 'GET', url: '/api/users?code=abc', ip: '127.0.0.1' }, res: { statusCode: 200 }, responseTime: 1.5 }, 'request completed');
    expect(lines[0]).toMatchObject({ req: { method: 'GET', url: '/api/users?code=[REDACTED]', remoteAddress: '127.0.0.1' }, res: { statusCode: 200 }, responseTime: 1.5 });
  });
});

describe('request lines', () => {
  it('logs every change, failure and slow read at info, and a quick successful read at debug only', async () => {
    const { sink, lines } = capturingSink();
    const app = Fastify({ logger: loggerOptions('debug', sink), logController: new OneLinePerRequest(50) });
    app.get('/read', async () => ({ ok: true }));
    app.get('/slow', async () => new Promise((resolve) => setTimeout(() => resolve({ ok: true }), 80)));
    app.post('/change', async () => ({ ok: true }));
    await app.ready();
    for (const [method, url] of [['GET', '/read'], ['GET', '/missing'], ['POST', '/change'], ['GET', '/slow'], ['HEAD', '/read']] as const) await app.inject({ method, url });
    await app.close();
    const completed = lines.filter((l) => l.msg === 'request completed').map((l) => [(l.req as { method: string }).method, (l.req as { url: string }).url, l.level]);
    // pino levels: 20 debug, 30 info
    expect(completed).toEqual([
      ['GET', '/read', 20],
      ['GET', '/missing', 30],
      ['POST', '/change', 30],
      ['GET', '/slow', 30],
      ['HEAD', '/read', 20],
    ]);
  });

  it('logs a flood of paced refusals at info once a minute per address and route, the rest at debug', async () => {
    const { sink, lines } = capturingSink();
    const app = Fastify({ logger: loggerOptions('debug', sink), logController: new OneLinePerRequest() });
    installErrorHandling(app, createRefusalHold(0));
    app.post('/api/signup', async () => {
      throw new TooManyRequestsError('Too many requests from this address.', 60, undefined, true);
    });
    app.post('/api/limited', async () => {
      throw new TooManyRequestsError('Too many wrong passwords.', 60);
    });
    await app.ready();
    for (const url of ['/api/signup', '/api/signup', '/api/signup', '/api/limited', '/api/limited']) expect((await app.inject({ method: 'POST', url })).statusCode).toBe(429);
    await app.close();
    const levels = lines.filter((l) => l.msg === 'request completed').map((l) => [(l.req as { url: string }).url, l.level]);
    expect(levels).toEqual([
      ['/api/signup', 30],
      ['/api/signup', 20],
      ['/api/signup', 20],
      // Not a flood's refusal (a person's wrong passwords): every one at info.
      ['/api/limited', 30],
      ['/api/limited', 30],
    ]);
  });
});
