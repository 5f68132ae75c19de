import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { browserBinding } from '../auth-flows/binding';
import { clientAddress, requireAuth } from '../http/context';
import { errorResponseSchema, nameSchema } from '../http/schemas';
import { CLOUDS, CLOUD_INFO } from '../microsoft/clouds';
import type { MicrosoftSetup } from '../core-types';
import type { ProfileAuthorization } from './authorization';
import type { AppProfileService } from './service';
import { appProfileSchema } from './view';

const errors = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 409: errorResponseSchema, 503: errorResponseSchema };
const idParams = z.object({ id: z.string().min(1).max(100) });
const cloudSchema = z.enum(CLOUDS);
const authorizationUrlAnswer = z.object({ authorizationUrl: z.string() });

export function registerAppProfileRoutes(
  app: FastifyInstance,
  deps: { service: AppProfileService; authorization: ProfileAuthorization; microsoft: MicrosoftSetup },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const admin = { access: 'admin' as const };
  const tags = ['App profiles'];

  r.get(
    '/api/app-profiles/clouds',
    {
      config: admin,
      schema: { tags, summary: 'The Microsoft 365 versions this deployment offers', response: { 200: z.object({ clouds: z.array(z.object({ id: cloudSchema, label: z.string(), loginHost: z.string().describe("The cloud's Microsoft sign-in host, e.g. login.microsoftonline.us") })) }), ...errors } },
    },
    async () => ({ clouds: deps.microsoft.offeredClouds.map((id) => ({ id, label: CLOUD_INFO[id].label, loginHost: CLOUD_INFO[id].loginHost })) }),
  );

  r.get(
    '/api/app-profiles',
    {
      config: admin,
      schema: {
        tags,
        summary: "The partner's app profiles, by name",
        querystring: z.object({
          status: z.enum(['active', 'authorization_expired']).optional(),
          search: z.string().trim().max(100).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(500),
          cursor: z.string().max(200).optional(),
        }),
        response: { 200: z.object({ items: z.array(appProfileSchema), nextCursor: z.string().nullable() }), ...errors },
      },
    },
    async (request) => deps.service.list(requireAuth(request).partner.id, request.query),
  );

  r.get(
    '/api/app-profiles/name-available',
    {
      config: admin,
      schema: {
        tags,
        summary: "Whether a name is free for a new app profile of the partner (checked on Create's first step); a name the rule for names refuses answers 400",
        querystring: z.object({ name: nameSchema(100) }),
        response: { 200: z.object({ available: z.boolean(), message: z.string().nullable().describe('Why the name cannot be used, in words') }), ...errors },
      },
    },
    async (request) => deps.service.nameAvailability(requireAuth(request).partner.id, request.query.name),
  );

  r.get(
    '/api/app-profiles/:id',
    { config: admin, schema: { tags, summary: 'One app profile', params: idParams, response: { 200: appProfileSchema, ...errors } } },
    async (request) => deps.service.view(requireAuth(request).partner.id, request.params.id),
  );

  r.post(
    '/api/app-profiles',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Start creating an app profile: answers the Microsoft sign-in URL; the profile is stored when a Global Administrator consents',
        body: z.object({ name: nameSchema(100), cloud: cloudSchema.default('global'), returnTo: z.string().max(500).optional() }).strict(),
        response: { 201: authorizationUrlAnswer, ...errors },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      await deps.service.assertNameFree(auth.partner.id, request.body.name);
      const binding = browserBinding(request, reply);
      const authorizationUrl = await deps.authorization.startCreate(auth, binding, request.body);
      return reply.code(201).send({ authorizationUrl });
    },
  );

  r.patch(
    '/api/app-profiles/:id',
    {
      config: admin,
      schema: { tags, summary: 'Rename an app profile', params: idParams, body: z.object({ name: nameSchema(100) }).strict(), response: { 200: appProfileSchema, ...errors } },
    },
    async (request) => deps.service.rename(requireAuth(request), request.params.id, request.body.name, clientAddress(request)),
  );

  r.post(
    '/api/app-profiles/:id/reauthorize',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Start re-authorizing: with the account that authorized it, or after signing out at Microsoft with another one',
        params: idParams,
        body: z.object({ account: z.enum(['current', 'another']).default('current'), returnTo: z.string().max(500).optional() }).strict(),
        response: { 200: authorizationUrlAnswer, ...errors },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const binding = browserBinding(request, reply);
      return { authorizationUrl: await deps.authorization.startReauthorize(auth, binding, request.params.id, request.body.account, request.body.returnTo) };
    },
  );

  r.post(
    '/api/app-profiles/:id/check',
    {
      config: admin,
      schema: { tags, summary: 'Check the authorization now (a token refresh and a small Graph read)', params: idParams, body: z.object({}).strict().optional(), response: { 200: appProfileSchema, ...errors } },
    },
    async (request) => deps.service.check(requireAuth(request), request.params.id, clientAddress(request)),
  );

  r.post(
    '/api/app-profiles/delete',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Delete app profiles; those still used by Microsoft 365 users or groups stay',
        body: z.object({ ids: z.array(z.string().min(1).max(100)).min(1).max(500) }).strict(),
        response: {
          200: z.object({
            deleted: z.array(z.string()),
            blocked: z.array(z.object({ id: z.string(), name: z.string(), code: z.literal('PROFILE_IN_USE'), message: z.string(), inUse: z.object({ users: z.number(), groups: z.number() }) })),
          }),
          ...errors,
        },
      },
    },
    async (request) => deps.service.delete(requireAuth(request), request.body.ids, clientAddress(request)),
  );
}
