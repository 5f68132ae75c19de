import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomToken } from '../security/random';

export const FLOW_COOKIE = 'tg_oauth';

/**
 * The browser-binding cookie of round trips to Microsoft: a callback is honoured only in the browser
 * that started it. One value serves every flow of that browser (several tabs work).
 */
export function browserBinding(request: FastifyRequest, reply: FastifyReply, secure: boolean): string {
  const existing = request.cookies[FLOW_COOKIE];
  const value = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : randomToken();
  reply.setCookie(FLOW_COOKIE, value, { httpOnly: true, sameSite: 'lax', secure, path: '/auth/microsoft', maxAge: 20 * 60 });
  return value;
}
