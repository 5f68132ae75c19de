import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAuth } from '../http/context';
import { errorResponseSchema } from '../http/schemas';
import { CLOUDS } from '../microsoft/clouds';
import type { CloudDetector } from './detect';

const detectionSchema = z.object({
  tenantId: z.string(),
  cloud: z.enum(CLOUDS),
  variant: z.enum(['commercial', 'gcc', 'gcc-high', 'dod', 'china']),
  graphHost: z.string(),
  cloudLabel: z.string(),
  explanation: z.string(),
});

const errors = {
  400: errorResponseSchema,
  401: errorResponseSchema,
  403: errorResponseSchema,
  404: errorResponseSchema,
  422: errorResponseSchema,
  429: errorResponseSchema,
  502: errorResponseSchema,
  504: errorResponseSchema,
};

export function registerCloudRoutes(app: FastifyInstance, deps: { detector: CloudDetector }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api/clouds/detect',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['App profiles'],
        summary: "Which Microsoft 365 version a tenant is in, from one of its domains",
        description:
          "Reads the tenant's public OpenID discovery document. 404 TENANT_NOT_FOUND: no tenant uses the domain (AADSTS90002); " +
          '422 CLOUD_NOT_OFFERED: the tenant is in a cloud this deployment has no app registration for (details name it); ' +
          '504 DETECT_TIMEOUT / 502 DETECT_FAILED: Microsoft did not answer usefully; 429 DETECT_RATE_LIMITED. Answers are cached for 5 minutes.',
        querystring: z.object({ domain: z.string().max(300) }),
        response: { 200: detectionSchema, ...errors },
      },
    },
    async (request) => deps.detector.detect(requireAuth(request).partner.id, request.query.domain),
  );
}
