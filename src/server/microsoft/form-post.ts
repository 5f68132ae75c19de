import http from 'node:http';
import https from 'node:https';

/**
 * POSTs a form to the identity platform's token endpoint over node:http(s) with kept-alive connections.
 * The health sweep refreshes every profile's token (50,000 in a sweep at scale); through fetch each refresh
 * cost the portal more CPU than it cost the identity platform to answer (WHATWG streams, a Request and a
 * Response per call), so a sweep was bound by the portal's own event loop. Redirects are not followed (a
 * token endpoint answers, it does not redirect), and the answer is read up to MAX_ANSWER_BYTES.
 */
export interface FormAnswer {
  status: number;
  header(name: string): string | null;
  text: string;
}
export type FormPost = (url: string, body: string, timeoutMs: number) => Promise<FormAnswer>;

/** A token answer is a few kilobytes; anything past this is not one. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/** Thrown when no answer arrived in time (the caller words it as "Microsoft did not answer"). */
export class FormPostTimeoutError extends Error {
  constructor() {
    super('The request timed out');
    this.name = 'TimeoutError';
  }
}

export function createFormPost(): FormPost {
  const agents = { 'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }), 'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }) };
  return (url, body, timeoutMs) =>
    new Promise<FormAnswer>((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      if (!secure && target.protocol !== 'http:') return reject(new TypeError(`Unsupported protocol ${target.protocol}`));
      const request = (secure ? https : http).request(target, {
        method: 'POST',
        agent: agents[target.protocol as 'http:' | 'https:'],
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      const timer = setTimeout(() => request.destroy(new FormPostTimeoutError()), timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      request.on('error', fail);
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) request.destroy(new Error('The answer is too large'));
          else chunks.push(chunk);
        });
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: response.statusCode ?? 0,
            header: (name) => {
              const value = response.headers[name.toLowerCase()];
              return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
            },
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      });
      request.end(body);
    });
}

/** The same over a fetch function (one given to the OAuth client, as tests and benches do). */
export function formPostOverFetch(doFetch: typeof fetch): FormPost {
  return async (url, body, timeoutMs) => {
    const response = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // A body that breaks off reads as no body: the status decides, as for any answer that is not JSON.
    const text = await response.text().catch(() => '');
    return { status: response.status, header: (name) => response.headers.get(name), text };
  };
}
