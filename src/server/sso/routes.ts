import type { FastifyInstance } from 'fastify';
import type { Config } from '../config';
import type { Services } from '../services';

export function registerSsoRoutes(_app: FastifyInstance, _config: Config, _services: Services): void {}
