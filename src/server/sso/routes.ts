import { CLOUDS } from '../microsoft/clouds';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { browserBinding, readBrowserBinding } from '../auth-flows/binding';
import { clientAddress } from '../http/context';
import { NotFoundError } from '../http/errors';
import { setSessionCookie, type SessionCookieSettings } from '../http/guards';
import { errorResponseSchema } from '../http/schemas';
import { partnerSchema, sessionUserSchema, toSessionAnswer } from '../partners/routes';
import type { SsoFeature } from './index';

/**
 * "Sign in with Microsoft 365": starts the round trip (the shared callback route finishes it)
 * and lets a person added by several partners choose one.
 */
export function registerSsoRoutes(app: FastifyInstance, deps: { sso: Pick<SsoFeature, 'start' | 'choices' | 'choose'>; cookies: SessionCookieSettings }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { sso, cookies } = deps;

  r.get(
    '/auth/microsoft/sign-in',
    {
      config: { access: 'public' },
      schema: {
        tags: ['Microsoft'],
        summary: 'Starts single sign-on with Microsoft 365 (redirects to Microsoft)',
        querystring: z.object({ email: z.string().max(320).optional(), cloud: z.enum(CLOUDS).optional() }),
        response: { 400: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const email = request.query.email && /^[^@\s]+@[^@\s]+$/.test(request.query.email.trim()) ? request.query.email.trim() : undefined;
      const url = await sso.start(browserBinding(request, reply), { email, cloud: request.query.cloud });
      return reply.redirect(url, 303);
    },
  );

  r.get(
    '/auth/microsoft/choices',
    {
      config: { access: 'public' },
      schema: {
        tags: ['Microsoft'],
        summary: 'The partners a person who just signed in with Microsoft 365 may choose from',
        response: { 200: z.object({ choices: z.array(z.object({ partnerId: z.string(), partnerName: z.string() })) }), 404: errorResponseSchema },
      },
    },
    async (request) => {
      const choices = await sso.choices(readBrowserBinding(request));
      if (!choices) throw new NotFoundError('A pending choice');
      return { choices };
    },
  );

  r.post(
    '/auth/microsoft/choose',
    {
      config: { access: 'public', csrfExempt: true },
      schema: {
        tags: ['Microsoft'],
        summary: 'Finishes single sign-on in the chosen partner',
        body: z.object({ partnerId: z.string().min(1).max(100) }).strict(),
        response: { 200: z.object({ user: sessionUserSchema, partner: partnerSchema, csrfToken: z.string() }), 400: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const signedIn = await sso.choose(readBrowserBinding(request), request.body.partnerId, clientAddress(request));
      if (!signedIn) throw new NotFoundError('A pending choice for that partner');
      setSessionCookie(reply, signedIn.token, cookies);
      return toSessionAnswer(signedIn.context);
    },
  );
}
