import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { clientAddress, requireAuth } from '../http/context';
import { errorResponseSchema } from '../http/schemas';
import type { BackgroundWorkService } from './service';
import { backgroundWorkSchema } from './view';

const errors = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 409: errorResponseSchema, 503: errorResponseSchema };
const idSchema = z.string().min(1).max(100);

export function registerBackgroundWorkRoutes(app: FastifyInstance, deps: { service: BackgroundWorkService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const admin = { access: 'admin' as const };
  const tags = ['App profiles'];

  r.get(
    '/api/app-profiles/:id/background-work',
    {
      config: admin,
      schema: {
        tags,
        summary: "The profile's background work: its groups' member downloads (running, waiting to retry, failed), its health check and directory sync",
        params: z.object({ id: idSchema }),
        response: { 200: backgroundWorkSchema, ...errors },
      },
    },
    async (request) => deps.service.show(requireAuth(request).partner.id, request.params.id),
  );

  r.post(
    '/api/app-profiles/:id/background-work/:jobId/retry',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Retry a failed group member download, or one waiting to retry, at once; answers the background work',
        params: z.object({ id: idSchema, jobId: idSchema }),
        body: z.object({}).strict().optional(),
        response: { 200: backgroundWorkSchema, ...errors },
      },
    },
    async (request) => deps.service.retry(requireAuth(request), request.params.id, request.params.jobId, clientAddress(request)),
  );

  r.post(
    '/api/app-profiles/:id/background-work/sync',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Run the profile’s directory sync now (after a failed or waiting run); answers the background work, the sync running or done',
        params: z.object({ id: idSchema }),
        body: z.object({}).strict().optional(),
        response: { 200: backgroundWorkSchema, ...errors },
      },
    },
    async (request) => deps.service.syncNow(requireAuth(request), request.params.id, clientAddress(request)),
  );
}
