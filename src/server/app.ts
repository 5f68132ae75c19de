import { existsSync } from 'node:fs';
import path from 'node:path';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { randomUUID } from 'node:crypto';
import { PORTAL_PAGES } from './auth-flows/portal-pages';
import { registerAuditRoutes } from './audit/routes';
import { fastifyTrustProxy, type Config } from './config';
import { API_DOCS_CSS, API_DOCS_UI_CONFIG } from './http/api-docs-theme';
import { answerRouterError, answerUnparsableRequest, installErrorHandling, sendError } from './http/error-handler';
import { installGuards } from './http/guards';
import { installSecurityHeaders } from './http/security-headers';
import { serializerCompiler } from './http/serializer';
import { validatorCompiler } from './http/validation';
import { loggerOptions, OneLinePerRequest } from './http/logging';
import { registerSystemRoutes } from './http/system-routes';
import { createPasswordChange } from './partners/password-change';
import { registerPartnerRoutes } from './partners/routes';
import { setPasswordHashingLimits } from './security/passwords';
import { registerAnonymousRateLimits } from './security/rate-limits';
import { createRefusalHold } from './security/refusal-hold';
import type { Services } from './services';
import { registerFeatureRoutes } from './features';

const WEB_ROOT = path.resolve(import.meta.dirname, '../../dist/web');

/** Builds the portal's HTTP app from the feature modules; wiring of each feature stays in its folder. */
export async function buildApp(config: Config, services: Services, options: { logStream?: NodeJS.WritableStream } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config.logLevel, options.logStream),
    trustProxy: fastifyTrustProxy(config.trustProxy),
    bodyLimit: 256 * 1024,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    logController: new OneLinePerRequest(),
    routerOptions: { maxParamLength: 200 },
    clientErrorHandler: answerUnparsableRequest,
    frameworkErrors: answerRouterError,
  });
  // First hook: every answer is timed, including those refused by the guards.
  services.metrics.instrument(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Server time of every answer, for operators and for the benchmarks' "server time" figures.
  app.addHook('onSend', (request, reply, payload, done) => {
    const ms = reply.elapsedTime.toFixed(2);
    reply.header('x-request-id', request.id);
    reply.header('x-response-time-ms', ms);
    reply.header('server-timing', `app;dur=${ms}`);
    done(null, payload);
  });
  installSecurityHeaders(app, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        // Fluent UI (Griffel) injects style elements at run time.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
  });
  await app.register(cookie);
  // Before any route: every unauthenticated route gets a per-address limit, and password hashing a cap.
  await registerAnonymousRateLimits(app, config.rateLimits, services.audit);
  setPasswordHashingLimits(config.passwordHashing);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Tenantgate API', version: '1.0.0', description: 'Partner portal: accounts, app profiles, users.' },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'tg_session' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(publicFiles(async (scope) => {
    await scope.register(swaggerUi, {
      routePrefix: '/api/docs',
      uiConfig: API_DOCS_UI_CONFIG,
      theme: { title: 'Tenantgate API reference', css: [{ filename: 'accessible.css', content: API_DOCS_CSS }] },
    });
  }));

  installErrorHandling(app, createRefusalHold(config.rateLimits.refusalHoldMs));
  installGuards(app, services.sessions, { publicUrl: config.publicUrl, secureCookies: config.secureCookies });

  registerSystemRoutes(app, services);
  registerPartnerRoutes(app, {
    partners: services.partners,
    sessions: services.sessions,
    audit: services.audit,
    changePassword: createPasswordChange({ db: services.db, sessions: services.sessions, audit: services.audit }),
    cookies: config,
  });
  registerAuditRoutes(app, { audit: services.audit });
  await registerFeatureRoutes(app, config, services);

  await serveWebApp(app);
  return app;
}

/** Routes added by a documentation plugin (the API docs) are public by declaration. */
function publicFiles(register: (scope: FastifyInstance) => Promise<void>) {
  return async (scope: FastifyInstance) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, access: route.config?.access ?? 'public' };
    });
    await register(scope);
  };
}

/** The built React app; its pages answer index.html so client routes reload, and unknown paths answer 404. */
async function serveWebApp(app: FastifyInstance): Promise<void> {
  const hasBuild = existsSync(path.join(WEB_ROOT, 'index.html'));
  if (hasBuild) {
    // Registered at the root (the not-found handler uses its reply.sendFile); its file routes are public.
    app.addHook('onRoute', (route) => {
      if (route.config && 'file' in route.config && 'rootPath' in route.config) route.config = { ...route.config, access: route.config.access ?? 'public' };
    });
    await app.register(fastifyStatic, { root: WEB_ROOT, wildcard: false, index: false });
  }
  app.setNotFoundHandler((request, reply) => {
    const pathname = request.url.split('?')[0];
    const wantsPage = request.method === 'GET' && !pathname.startsWith('/api/') && !pathname.startsWith('/auth/');
    if (wantsPage && hasBuild) {
      const asset = pathname.slice(1);
      if (asset && !asset.includes('..') && existsSync(path.join(WEB_ROOT, asset))) return reply.sendFile(asset);
      // Only the app's own pages get the app: any other path (say /metrics on the public port) is a plain 404.
      const page = pathname.length > 1 ? pathname.replace(/\/$/, '') : pathname;
      if (PORTAL_PAGES.includes(page)) return reply.type('text/html').sendFile('index.html');
    }
    return sendError(reply, request, 404, 'NOT_FOUND', `No route ${request.method} ${pathname}.`);
  });
}
