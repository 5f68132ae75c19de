import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { resolveWebhookHost, type Resolver, type WebhookPolicy } from './address-policy';

/** The receiver has this long to answer (its body is not read). */
export const WEBHOOK_TIMEOUT_MS = 5_000;

/** `Tenantgate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the webhook's secret>`. */
export function webhookSignature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

export interface WebhookAttempt {
  /** The receiver's status code, when it answered. */
  statusCode: number | null;
  /** Why the attempt failed (no answer, a refused URL, a status that is not 2xx); null when delivered. */
  error: string | null;
}

/**
 * POSTs a signed body to a webhook URL once: the host is resolved and every address checked first (at every
 * attempt, not only when the webhook was added), the connection goes to the checked address (the Host header
 * and TLS name stay the URL's), no redirect is followed (a 3xx is a failure), the answer's body is not read,
 * and the whole attempt ends after 5 seconds.
 */
export async function postWebhook(
  target: { url: string; secret: string },
  body: string,
  options: { policy: WebhookPolicy; resolve?: Resolver; now?: () => Date; timeoutMs?: number },
): Promise<WebhookAttempt> {
  const url = new URL(target.url);
  let pinned: { address: string; family: 4 | 6 };
  try {
    pinned = await resolveWebhookHost(url, options.policy, options.resolve);
  } catch (error) {
    return { statusCode: null, error: (error as Error).message };
  }
  const lookup: LookupFunction = (_host, lookupOptions, callback) => {
    if (lookupOptions.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
  const seconds = Math.floor((options.now?.() ?? new Date()).getTime() / 1000);
  const client = url.protocol === 'https:' ? https : http;
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  return new Promise<WebhookAttempt>((resolve) => {
    const request = client.request(
      url,
      {
        method: 'POST',
        lookup,
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'Tenantgate-Webhooks/1',
          'tenantgate-signature': webhookSignature(target.secret, body, seconds),
        },
      },
      (response) => {
        const statusCode = response.statusCode ?? 0;
        response.destroy();
        clearTimeout(timer);
        if (statusCode >= 200 && statusCode < 300) resolve({ statusCode, error: null });
        else if (statusCode >= 300 && statusCode < 400) resolve({ statusCode, error: `The receiver answered ${statusCode} (a redirect, which is not followed).` });
        else resolve({ statusCode, error: `The receiver answered ${statusCode}.` });
      },
    );
    const timer = setTimeout(() => request.destroy(new Error(`No answer within ${timeoutMs / 1000} seconds.`)), timeoutMs);
    request.on('error', (error) => {
      clearTimeout(timer);
      resolve({ statusCode: null, error: error.message });
    });
    request.end(body);
  });
}
