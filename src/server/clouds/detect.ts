import { isIP } from 'node:net';
import { AppError, FieldError, TooManyRequestsError } from '../http/errors';
import { CLOUD_INFO, type Cloud, type CloudEndpoints } from '../microsoft/clouds';
import { classifyDiscovery, DiscoveryError, readDiscoveryDocument, type TenantCloud, type TenantVariant } from '../microsoft/discovery';

/**
 * "Which Microsoft 365 version is this tenant in?" from one of its domains, read from the tenant's public
 * discovery document: the global login host answers for global and US Government tenants, China tenants are
 * asked at the China host. Answers (and unknown domains) are cached in this process for a few minutes; every
 * lookup counts against the partner's per-minute allowance.
 */

export interface CloudDetection extends TenantCloud {
  /** The version's label, as the Create dialog offers it. */
  cloudLabel: string;
  /** One sentence for the person, e.g. "GCC tenants use Global Microsoft 365." */
  explanation: string;
}

export interface CloudDetectorOptions {
  endpoints: Record<Cloud, Pick<CloudEndpoints, 'login'>>;
  offeredClouds: readonly Cloud[];
  /** Detections one partner may run per minute. */
  perMinute: number;
  fetch?: typeof fetch;
  /** How long Microsoft may take per document (default 5 s). */
  timeoutMs?: number;
  /** How long an answer is reused (default 5 minutes). */
  cacheTtlMs?: number;
  now?: () => number;
}

export type CloudDetector = ReturnType<typeof createCloudDetector>;

const VARIANT_NAME: Record<TenantVariant, string> = {
  commercial: 'Commercial',
  gcc: 'GCC',
  'gcc-high': 'GCC High',
  dod: 'DoD',
  china: '21Vianet',
};

/** Microsoft's documented order: the global host first, then the hosts that do not answer for global tenants. */
const LOOKUP_ORDER: readonly Cloud[] = ['global', 'china'];
const CACHE_LIMIT = 1000;

/** A domain name only: letters, digits, hyphens and dots, a final label that is not all digits (so no IP address). */
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

export function normalizeDomain(raw: string): string {
  const domain = raw.trim().toLowerCase().replace(/\.$/, '');
  if (!domain || isIP(domain.replace(/^\[|\]$/g, '')) !== 0 || !DOMAIN.test(domain)) {
    throw new FieldError('domain', 'Enter a domain name of the tenant, such as contoso.com (no https://, path, port or IP address).', 'DOMAIN_INVALID');
  }
  return domain;
}

type Cached = { expiresAt: number; answer: TenantCloud | 'not-found' };

export function createCloudDetector(options: CloudDetectorOptions) {
  const now = options.now ?? Date.now;
  const ttl = options.cacheTtlMs ?? 5 * 60_000;
  const cache = new Map<string, Cached>();
  const windows = new Map<string, { startedAt: number; count: number }>();

  function admit(partnerId: string): void {
    const at = now();
    const window = windows.get(partnerId);
    if (!window || at - window.startedAt >= 60_000) {
      windows.set(partnerId, { startedAt: at, count: 1 });
      if (windows.size > 10_000) windows.delete(windows.keys().next().value!);
      return;
    }
    if (window.count >= options.perMinute) {
      const retryAfter = Math.max(1, Math.ceil((window.startedAt + 60_000 - at) / 1000));
      throw new TooManyRequestsError(`Too many cloud detections; try again in ${retryAfter} seconds.`, retryAfter, 'DETECT_RATE_LIMITED');
    }
    window.count += 1;
  }

  async function lookUp(domain: string): Promise<TenantCloud | 'not-found'> {
    for (const cloud of LOOKUP_ORDER) {
      let doc: Record<string, unknown>;
      try {
        doc = await readDiscoveryDocument(options.endpoints[cloud].login, domain, { fetch: options.fetch, timeoutMs: options.timeoutMs });
      } catch (error) {
        if (error instanceof DiscoveryError && error.reason === 'TENANT_NOT_FOUND') continue;
        if (error instanceof DiscoveryError && error.reason === 'TIMEOUT') {
          throw new AppError(504, 'DETECT_TIMEOUT', `Microsoft did not answer in time for ${domain}. Try again, or choose the version yourself.`);
        }
        throw new AppError(502, 'DETECT_FAILED', `Microsoft's answer for ${domain} could not be read. Try again, or choose the version yourself.`);
      }
      const found = classifyDiscovery(doc);
      if (!found) throw new AppError(422, 'CLOUD_UNKNOWN', `The tenant of ${domain} is in a Microsoft cloud Tenantgate does not know. Choose the version yourself.`);
      return found;
    }
    return 'not-found';
  }

  function remember(domain: string, answer: TenantCloud | 'not-found'): void {
    cache.delete(domain);
    cache.set(domain, { expiresAt: now() + ttl, answer });
    if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  }

  return {
    async detect(partnerId: string, rawDomain: string): Promise<CloudDetection> {
      const domain = normalizeDomain(rawDomain);
      admit(partnerId);
      const cached = cache.get(domain);
      let answer: TenantCloud | 'not-found';
      if (cached && cached.expiresAt > now()) answer = cached.answer;
      else {
        answer = await lookUp(domain);
        remember(domain, answer);
      }
      if (answer === 'not-found') {
        throw new AppError(404, 'TENANT_NOT_FOUND', `No Microsoft 365 tenant uses the domain ${domain} (Microsoft answered AADSTS90002). Check the spelling, or choose the version yourself.`);
      }
      const { cloud, variant } = answer;
      const cloudLabel = CLOUD_INFO[cloud].label;
      if (!options.offeredClouds.includes(cloud)) {
        throw new AppError(
          422,
          'CLOUD_NOT_OFFERED',
          `${domain} is a ${VARIANT_NAME[variant]} tenant in ${cloudLabel}, which this deployment of Tenantgate has no app registration for.`,
          { ...answer, cloudLabel },
        );
      }
      return { ...answer, cloudLabel, explanation: explain(variant, cloudLabel, answer.graphHost) };
    },
  };
}

function explain(variant: TenantVariant, cloudLabel: string, graphHost: string): string {
  const sentence = `${VARIANT_NAME[variant]} tenants use ${cloudLabel}.`;
  return variant === 'dod' ? `${sentence} Their Microsoft Graph is ${graphHost}; Tenantgate uses it for this tenant.` : sentence;
}
