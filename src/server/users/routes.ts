import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { clientAddress, requireAuth } from '../http/context';
import { errorResponseSchema, passwordSchema } from '../http/schemas';
import type { UserService } from './service';
import { userSchema } from './view';
import { USER_SORT_KEYS } from './store';

const errors = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 409: errorResponseSchema, 502: errorResponseSchema, 503: errorResponseSchema };
const idSchema = z.string().min(1).max(100);
/** Query options the web app may send empty: an empty value means "not given". */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
const rejectionSchema = z.object({
  email: z.string(),
  code: z.enum(['INVALID_EMAIL', 'DUPLICATE_IN_REQUEST', 'ALREADY_ADDED', 'FOREIGN_DOMAIN', 'NOT_FOUND_IN_TENANT', 'ACCOUNT_DISABLED', 'PROFILE_DELETED', 'EMAIL_TAKEN']),
  message: z.string(),
});

export function registerUserRoutes(app: FastifyInstance, deps: { service: UserService }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const admin = { access: 'admin' as const };
  const tags = ['Users'];
  const { service } = deps;

  r.get(
    '/api/users',
    {
      config: admin,
      schema: {
        tags,
        summary: "The partner's users and groups, sorted (by email unless asked) and filtered; search matches the email or the name",
        querystring: z.object({
          search: optional(z.string().trim().max(320)),
          role: optional(z.enum(['administrator', 'member'])),
          appProfileId: optional(idSchema),
          signInType: optional(z.enum(['local', 'microsoft365'])),
          status: optional(z.enum(['invited', 'active', 'disabled'])),
          sort: optional(z.enum(USER_SORT_KEYS)).describe('The column to sort by; email (the default) breaks ties'),
          order: optional(z.enum(['asc', 'desc'])),
          limit: z.coerce.number().int().min(1).max(1000).default(200),
          cursor: optional(z.string().max(400)),
        }),
        response: {
          200: z.object({
            items: z.array(userSchema),
            nextCursor: z.string().nullable().describe('Opaque; valid only with the same sort and order'),
            total: z.number().int().describe('How many users and groups match the filters, on every page'),
          }),
          ...errors,
        },
      },
    },
    async (request) => service.list(requireAuth(request).partner.id, request.query),
  );

  r.post(
    '/api/users',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Add local users (invited) or Microsoft 365 users and groups (checked in the tenant of the chosen app profile)',
        body: z
          .object({
            signInType: z.enum(['local', 'microsoft365']),
            emails: z.array(z.string().max(320)).min(1).max(500),
            appProfileId: idSchema.optional(),
            role: z.enum(['administrator', 'member']),
          })
          .strict(),
        response: {
          200: z.object({
            added: z.array(userSchema),
            rejected: z.array(rejectionSchema),
            invitations: z.array(z.object({ email: z.string(), activationUrl: z.string() })).optional().describe('Activation links to pass on to local invitees; shown once'),
            invitationsEmailed: z.number().optional().describe('Invitations sent by email (SMTP configured)'),
          }),
          ...errors,
        },
      },
    },
    async (request) => service.add(requireAuth(request), request.body, clientAddress(request)),
  );

  r.post(
    '/api/users/delete',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Remove users and groups; their sessions end. The portal owner cannot be removed',
        body: z.object({ ids: z.array(idSchema).min(1).max(500) }).strict(),
        response: {
          200: z.object({ deleted: z.array(z.string()), blocked: z.array(z.object({ id: z.string(), email: z.string(), code: z.literal('OWNER'), message: z.string() })) }),
          ...errors,
        },
      },
    },
    async (request) => service.delete(requireAuth(request), request.body.ids, clientAddress(request)),
  );

  r.patch(
    '/api/users/:id',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Change the role of a user or group entry (not the portal owner’s, not one’s own)',
        params: z.object({ id: idSchema }),
        body: z.object({ role: z.enum(['administrator', 'member']) }).strict(),
        response: { 200: userSchema, ...errors },
      },
    },
    async (request) => service.changeRole(requireAuth(request), request.params.id, request.body.role, clientAddress(request)),
  );

  r.post(
    '/api/users/:id/download-members',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Download an added group’s members again (after a failed download)',
        params: z.object({ id: idSchema }),
        body: z.object({}).strict().optional(),
        response: { 200: userSchema, ...errors },
      },
    },
    async (request) => service.restartDownload(requireAuth(request), request.params.id, clientAddress(request)),
  );

  r.get(
    '/api/app-profiles/:id/directory',
    {
      config: admin,
      schema: {
        tags,
        summary: "Browse the users or groups of an app profile's tenant, straight from Microsoft Graph",
        params: z.object({ id: idSchema }),
        querystring: z.object({
          type: z.enum(['user', 'group']).default('user'),
          search: optional(z.string().trim().max(100)),
          cursor: optional(z.string().max(4000)),
        }),
        response: {
          200: z.object({
            items: z.array(z.object({ id: z.string(), displayName: z.string(), email: z.string().nullable(), kind: z.enum(['user', 'group']), added: z.boolean().describe('Already one of the partner’s users') })),
            nextCursor: z.string().nullable(),
          }),
          ...errors,
        },
      },
    },
    async (request) => service.browse(requireAuth(request).partner.id, request.params.id, request.query),
  );
  registerActivationRoutes(app, deps);
}

/** Invitation links: a new one for an invited user, checking one as the page opens, and using it. */
function registerActivationRoutes(app: FastifyInstance, deps: { service: UserService }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const admin = { access: 'admin' as const };
  const tags = ['Users'];
  const { service } = deps;

  r.post(
    '/api/users/:id/invitation',
    {
      config: admin,
      schema: {
        tags,
        summary: 'A new activation link for an invited local user (the old link stops working); mailed, or answered once when mail is not set up',
        params: z.object({ id: idSchema }),
        body: z.object({}).strict().optional(),
        response: {
          200: z.object({ email: z.string(), expiresAt: z.string(), activationUrl: z.string().nullable(), emailed: z.boolean() }),
          ...errors,
          429: errorResponseSchema,
        },
      },
    },
    async (request) => service.resendInvitation(requireAuth(request), request.params.id, clientAddress(request)),
  );

  r.post(
    '/api/activate/check',
    {
      config: { access: 'public', csrfExempt: true },
      schema: {
        tags,
        summary: 'Whether an activation link still works (asked when the activation page opens)',
        body: z.object({ token: z.string().min(1).max(200) }).strict(),
        response: { 200: z.object({ email: z.string(), expiresAt: z.string() }), ...errors },
      },
    },
    async (request) => service.checkActivation(request.body.token),
  );

  r.post(
    '/api/activate',
    {
      config: { access: 'public', csrfExempt: true },
      schema: {
        tags,
        summary: 'Set the password of an invited local user with the activation link’s token (single use, 72 hours)',
        body: z.object({ token: z.string().min(1).max(200), password: passwordSchema }).strict(),
        response: { 200: z.object({ email: z.string() }), ...errors },
      },
    },
    async (request) => service.activate(request.body, clientAddress(request)),
  );
}
