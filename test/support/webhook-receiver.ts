import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  body: string;
  /** The `Tenantgate-Signature` header checked against the secret: the body is authentic and was signed within 5 minutes. */
  signatureValid: boolean;
}

/**
 * A webhook receiver for tests on 127.0.0.1 that verifies `Tenantgate-Signature` as a partner's receiver
 * would (HMAC-SHA256 of "t.body" with the secret, in constant time, t not older than 5 minutes). It answers
 * `status` (a function of the path may answer a redirect), and listens on `port` when given.
 */
export async function startWebhookReceiver(options: { port?: number; status?: (path: string) => { code: number; headers?: Record<string, string> } } = {}) {
  const received: ReceivedWebhook[] = [];
  let secret = '';
  const verify = (header: string | undefined, body: string): boolean => {
    const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=') as [string, string]));
    const t = Number(parts.t);
    if (!parts.v1 || !Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300) return false;
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
    const given = Buffer.from(parts.v1, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body, signatureValid: verify(req.headers['tenantgate-signature'] as string | undefined, body) });
      const answer = options.status?.(req.url ?? '') ?? { code: 200 };
      res.writeHead(answer.code, answer.headers).end('ignored body');
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    /** The secret the portal answered when the webhook was added. */
    useSecret(value: string) {
      secret = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
