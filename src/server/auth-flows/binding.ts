import { createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomToken, safeEqual } from '../security/random';

/** The cookie's name: behind https the `__Host-` prefix (Secure, Path=/, no Domain) keeps sibling hosts from setting it. */
export const flowCookieName = (secure: boolean): string => (secure ? '__Host-tg_oauth' : 'tg_oauth');

/** How the portal mints and checks binding values: a key derived from the encryption key, and https or not. */
export interface BrowserBindingSettings {
  key: Buffer;
  secure: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    browserBindingSettings: BrowserBindingSettings;
  }
}

export function installBrowserBinding(app: FastifyInstance, settings: BrowserBindingSettings): void {
  app.decorate('browserBindingSettings', settings);
}

const LIFETIME_SECONDS = 20 * 60;
const sign = (key: Buffer, nonce: string) => createHmac('sha256', key).update(`tg_oauth:${nonce}`).digest('base64url');

/** The binding this browser presents, if the portal minted it (signed with its key); else undefined. */
export function readBrowserBinding(request: FastifyRequest): string | undefined {
  const { key, secure } = request.server.browserBindingSettings;
  const value = request.cookies[flowCookieName(secure)];
  const match = value ? /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/.exec(value) : null;
  if (!match || !safeEqual(match[2], sign(key, match[1]))) return undefined;
  return value;
}

/**
 * The browser-binding cookie of round trips to Microsoft: a callback is honoured only in the browser
 * that started it. One value serves every flow of that browser (several tabs work). Values are minted
 * by the server only: one the browser made up (or a sibling site planted) is replaced, never adopted. Set under
 * the name readBrowserBinding reads (the installed settings decide both).
 */
export function browserBinding(request: FastifyRequest, reply: FastifyReply): string {
  const { key, secure } = request.server.browserBindingSettings;
  const existing = readBrowserBinding(request);
  const nonce = randomToken();
  const value = existing ?? `${nonce}.${sign(key, nonce)}`;
  reply.setCookie(flowCookieName(secure), value, { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: LIFETIME_SECONDS });
  return value;
}
