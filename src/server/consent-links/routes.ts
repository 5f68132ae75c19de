import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { browserBinding, readBrowserBinding } from '../auth-flows/binding';
import { clientAddress, requireAuth } from '../http/context';
import { emailSchema, errorResponseSchema, nameSchema } from '../http/schemas';
import { CLOUDS } from '../microsoft/clouds';
import { consentLinkClosedPage, consentOutcomePage, consentRequestPage } from './page';
import type { ConsentLinkService } from './service';

const errors = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 409: errorResponseSchema };
const idParams = z.object({ id: z.string().min(1).max(100) });
const createdAnswer = z.object({
  id: z.string(),
  url: z.string(),
  expiresAt: z.string(),
  emailed: z.boolean().describe('The link was mailed to the given address (SMTP configured and the mail server took it); otherwise pass it on yourself'),
});
const linkSchema = z.object({
  id: z.string(),
  kind: z.enum(['create', 'reauthorize']),
  profileName: z.string(),
  profileId: z.string().nullable(),
  cloud: z.enum(CLOUDS),
  email: z.string().nullable(),
  state: z.enum(['waiting', 'used', 'expired', 'revoked']),
  createdAt: z.string(),
  expiresAt: z.string(),
  outcome: z.string().nullable(),
});

/** Consent links: the partner's API, and the public page a Global Administrator without a portal account opens. */
export function registerConsentLinkRoutes(app: FastifyInstance, deps: { links: ConsentLinkService }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { links } = deps;
  const admin = { access: 'admin' as const };
  const tags = ['Consent links'];

  r.post(
    '/api/consent-links',
    {
      config: admin,
      schema: { tags, summary: 'A single-use link for a Global Administrator to create an app profile (shown once)', body: z.object({ name: nameSchema(100), cloud: z.enum(CLOUDS), email: emailSchema.optional() }).strict(), response: { 201: createdAnswer, ...errors } },
    },
    async (request, reply) => reply.code(201).send(await links.createForNewProfile(requireAuth(request), request.body, clientAddress(request))),
  );

  r.post(
    '/api/app-profiles/:id/consent-links',
    {
      config: admin,
      schema: { tags, summary: 'A single-use link for a Global Administrator to re-authorize this app profile (shown once)', params: idParams, body: z.object({ email: emailSchema.optional() }).strict(), response: { 201: createdAnswer, ...errors } },
    },
    async (request, reply) => reply.code(201).send(await links.createForProfile(requireAuth(request), request.params.id, request.body, clientAddress(request))),
  );

  r.get(
    '/api/consent-links',
    { config: admin, schema: { tags, summary: 'The partner’s consent links, newest first', response: { 200: z.object({ links: z.array(linkSchema) }), ...errors } } },
    async (request) => ({ links: await links.list(requireAuth(request)) }),
  );

  r.delete(
    '/api/consent-links/:id',
    { config: admin, schema: { tags, summary: 'Revokes a consent link that was not used yet', params: idParams, response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      await links.revoke(requireAuth(request), request.params.id, clientAddress(request));
      return reply.code(204).send(null);
    },
  );

  const tokenParams = z.object({ token: z.string().max(100) });
  // These are pages for a person (the Global Administrator), not JSON: an unknown or closed link is a page too.
  const htmlPage = z.string().describe('An HTML page');
  const htmlPageAnswers = { 200: htmlPage, 400: errorResponseSchema, 404: htmlPage, 410: htmlPage };

  r.get(
    '/consent/done',
    { config: { access: 'public' }, schema: { tags, summary: 'The outcome page after Microsoft (only for the browser that came from the link)', querystring: z.object({ link: z.string().max(100).optional() }), response: htmlPageAnswers } },
    async (request, reply) => {
      const found = request.query.link ? await links.outcome(request.query.link, readBrowserBinding(request)) : null;
      if (!found) return reply.code(404).type('text/html; charset=utf-8').send(consentLinkClosedPage('unknown'));
      const partnerName = (await links.lookupPartnerName(found.row.partner_id)) ?? 'The partner';
      return reply.type('text/html; charset=utf-8').send(consentOutcomePage({ partnerName, profileName: found.row.profile_name, outcome: found.row.outcome, stillOpen: found.state === 'waiting' }));
    },
  );

  r.get(
    '/consent/:token',
    { config: { access: 'public' }, schema: { tags, summary: 'The page of a consent link: who asks, which permissions and why, which cloud', params: tokenParams, response: htmlPageAnswers } },
    async (request, reply) => {
      const found = await links.lookup(request.params.token);
      reply.header('cache-control', 'no-store').type('text/html; charset=utf-8');
      if (!found) return reply.code(404).send(consentLinkClosedPage('unknown'));
      if (found.state !== 'waiting') return reply.code(410).send(consentLinkClosedPage(found.state));
      const { row } = found;
      return reply.send(consentRequestPage({ partnerName: row.partner_name, profileName: row.profile_name, reauthorize: row.profile_id !== null, cloud: row.cloud, expiresAt: row.expires_at, token: request.params.token }));
    },
  );

  // A plain link, not a form: the portal's CSP (form-action 'self') would stop a form's redirect to Microsoft.
  // Following it only starts a round trip bound to this browser; the link is taken when Microsoft answers.
  r.get(
    '/consent/:token/continue',
    { config: { access: 'public' }, schema: { tags, summary: '"Continue to Microsoft" from a consent link (redirects to Microsoft)', params: tokenParams, response: { ...htmlPageAnswers, 303: z.null().describe('On to Microsoft') } } },
    async (request, reply) => {
      const url = await links.start(request.params.token, browserBinding(request, reply));
      if (url) return reply.redirect(url, 303);
      const found = await links.lookup(request.params.token);
      return reply.code(found ? 410 : 404).type('text/html; charset=utf-8').send(consentLinkClosedPage(found && found.state !== 'waiting' ? found.state : 'unknown'));
    },
  );
}
