import type { FastifyRequest } from 'fastify';
import { UnauthorizedError } from './errors';

export type Role = 'administrator' | 'member';

export interface AuthContext {
  sessionId: string;
  csrfToken: string;
  user: { id: string; email: string; displayName: string; role: Role; isOwner: boolean; signInType: 'local' | 'microsoft365' };
  partner: { id: string; name: string };
}

/** Who may call a route: anyone, any signed-in user, or Administrators only. */
export type RouteAccess = 'public' | 'user' | 'admin';

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
  interface FastifyContextConfig {
    access?: RouteAccess;
    /** Sign-up and sign-in carry no CSRF token yet; they check Origin instead. */
    csrfExempt?: boolean;
    /** A public route that still acts on who is signed in (the Microsoft callback). */
    readsSession?: boolean;
  }
}

export function requireAuth(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new UnauthorizedError();
  return request.auth;
}

/** The address to audit and rate-limit by (honours X-Forwarded-For only when TRUST_PROXY is on). */
export const clientAddress = (request: FastifyRequest): string => request.ip;
