import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { clientAddress, requireAuth, type AuthContext } from '../http/context';
import { clearSessionCookie, setSessionCookie, type SessionCookieSettings } from '../http/guards';
import { emailSchema, errorResponseSchema, nameSchema, passwordSchema } from '../http/schemas';
import type { AuditLog } from '../audit/store';
import type { PasswordChange } from './password-change';
import type { PartnerService } from './service';
import type { SessionStore } from './session-store';

export const sessionUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  displayName: z.string(),
  role: z.enum(['administrator', 'member']),
  isOwner: z.boolean(),
  signInType: z.enum(['local', 'microsoft365']),
});
export const partnerSchema = z.object({ id: z.string(), name: z.string() });
const sessionAnswer = z.object({ user: sessionUserSchema, partner: partnerSchema, csrfToken: z.string() });

export const toSessionAnswer = (auth: AuthContext) => ({ user: auth.user, partner: auth.partner, csrfToken: auth.csrfToken });

export function registerPartnerRoutes(
  app: FastifyInstance,
  deps: { partners: PartnerService; sessions: SessionStore; audit: AuditLog; changePassword: PasswordChange; cookies: SessionCookieSettings },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const errors = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 409: errorResponseSchema, 429: errorResponseSchema };

  r.post(
    '/api/signup',
    {
      config: { access: 'public', csrfExempt: true },
      schema: {
        tags: ['Accounts'],
        summary: 'Create a partner and its portal owner, and sign in',
        body: z.object({ organizationName: nameSchema(100), email: emailSchema, password: passwordSchema }).strict(),
        response: { 201: sessionAnswer, ...errors },
      },
    },
    async (request, reply) => {
      const { token, context } = await deps.partners.signUp(request.body, clientAddress(request));
      setSessionCookie(reply, token, deps.cookies);
      return reply.code(201).send(toSessionAnswer(context));
    },
  );

  r.post(
    '/api/session',
    {
      config: { access: 'public', csrfExempt: true },
      schema: {
        tags: ['Accounts'],
        summary: 'Sign in with email and password',
        body: z.object({ email: emailSchema, password: passwordSchema }).strict(),
        response: { 200: sessionAnswer, ...errors },
      },
    },
    async (request, reply) => {
      const { token, context } = await deps.partners.signIn(request.body, clientAddress(request));
      setSessionCookie(reply, token, deps.cookies);
      return toSessionAnswer(context);
    },
  );

  r.get(
    '/api/session',
    { config: { access: 'user' }, schema: { tags: ['Accounts'], summary: 'Who am I', response: { 200: sessionAnswer, 401: errorResponseSchema } } },
    async (request) => toSessionAnswer(requireAuth(request)),
  );

  r.delete(
    '/api/session',
    { config: { access: 'user' }, schema: { tags: ['Accounts'], summary: 'Sign out', response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      await deps.partners.signOut(requireAuth(request), clientAddress(request));
      clearSessionCookie(reply, deps.cookies.secureCookies);
      return reply.code(204).send(null);
    },
  );

  r.delete(
    '/api/sessions',
    {
      config: { access: 'user' },
      schema: { tags: ['Accounts'], summary: 'Sign out everywhere: every session of the signed-in person ends, this one included', response: { 204: z.null(), ...errors } },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const ended = await deps.sessions.destroyOthers(auth.partner.id, auth.user.id, null);
      await deps.audit.record({ partnerId: auth.partner.id, actor: { userId: auth.user.id, email: auth.user.email }, action: 'session.signout_everywhere', target: { type: 'user', id: auth.user.id, name: auth.user.email }, outcome: 'success', clientAddress: clientAddress(request), details: { endedSessions: ended } });
      clearSessionCookie(reply, deps.cookies.secureCookies);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/api/session/password',
    {
      config: { access: 'user' },
      schema: {
        tags: ['Accounts'],
        summary: "Change one's own password (local accounts); every other session of the person ends",
        body: z.object({ currentPassword: passwordSchema, newPassword: passwordSchema }).strict(),
        response: { 200: z.object({ endedSessions: z.number().int().describe('Other sessions that ended') }), ...errors },
      },
    },
    async (request) => deps.changePassword(requireAuth(request), request.body, clientAddress(request)),
  );
}
