import { CLOUD_INFO, cloudByGraphHost, cloudByInstanceName, defaultGraphHost, type Cloud } from './clouds';
import { parseErrorCodes } from './errors';

/**
 * A tenant's OpenID discovery document (`{login}/{tenant}/v2.0/.well-known/openid-configuration`) and what it
 * tells about the tenant's cloud. Facts: shared/reference/microsoft-identity-platform.md §4 and Microsoft's
 * "National clouds" pages. The host names decide the cloud; the region fields only tell GCC from commercial.
 */

/** The kind of tenant: GCC tenants live in the global cloud, GCC High and DoD tenants in the US Government cloud. */
export type TenantVariant = 'commercial' | 'gcc' | 'gcc-high' | 'dod' | 'china';

export interface TenantCloud {
  tenantId: string;
  cloud: Cloud;
  variant: TenantVariant;
  /** Graph host name the tenant is served at (`msgraph_host`), e.g. `dod-graph.microsoft.us`. */
  graphHost: string;
}

export type DiscoveryFailure = 'TENANT_NOT_FOUND' | 'TIMEOUT' | 'UNREADABLE';

export class DiscoveryError extends Error {
  constructor(
    readonly reason: DiscoveryFailure,
    message: string,
  ) {
    super(message);
    this.name = 'DiscoveryError';
  }
}

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** Reads a tenant's discovery document from a login base URL. AADSTS90002 (no such tenant) is TENANT_NOT_FOUND. */
export async function readDiscoveryDocument(
  loginBase: string,
  tenant: string,
  options: { fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<Record<string, unknown>> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const url = `${loginBase}/${encodeURIComponent(tenant)}/v2.0/.well-known/openid-configuration`;
  let response: Response;
  let body: unknown;
  try {
    response = await doFetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs ?? 5000) });
    body = await response.json().catch(() => undefined);
  } catch (error) {
    const name = (error as Error)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') throw new DiscoveryError('TIMEOUT', 'Microsoft did not answer in time.');
    throw new DiscoveryError('UNREADABLE', 'Microsoft could not be reached.');
  }
  if (!response.ok) {
    const record = (body ?? {}) as { error?: unknown; error_description?: unknown; error_codes?: unknown };
    const codes = parseErrorCodes(record.error_codes, typeof record.error_description === 'string' ? record.error_description : undefined);
    if (codes.includes(90002)) throw new DiscoveryError('TENANT_NOT_FOUND', 'Microsoft knows no tenant by that name (AADSTS90002).');
    throw new DiscoveryError('UNREADABLE', `Microsoft answered ${response.status}.`);
  }
  if (!body || typeof body !== 'object') throw new DiscoveryError('UNREADABLE', 'Microsoft answered something that is not a discovery document.');
  return body as Record<string, unknown>;
}

const text = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');

/** The tenant's cloud, variant and Graph host from its discovery document; undefined when the cloud is unknown. */
export function classifyDiscovery(doc: Record<string, unknown>): TenantCloud | undefined {
  const graphHostReported = text(doc.msgraph_host).toLowerCase();
  const cloud = cloudByGraphHost(graphHostReported) ?? cloudByInstanceName(text(doc.cloud_instance_name));
  const tenantId = (text(doc.token_endpoint).match(GUID) ?? text(doc.issuer).match(GUID))?.[0]?.toLowerCase();
  if (!cloud || !tenantId) return undefined;
  const subScope = text(doc.tenant_region_sub_scope).toUpperCase();
  const hostOfCloud = CLOUD_INFO[cloud].graphHosts.includes(graphHostReported) ? graphHostReported : undefined;
  let variant: TenantVariant;
  if (cloud === 'china') variant = 'china';
  else if (cloud === 'usgov') variant = hostOfCloud ? (hostOfCloud === 'dod-graph.microsoft.us' ? 'dod' : 'gcc-high') : subScope === 'DOD' ? 'dod' : 'gcc-high';
  else variant = subScope === 'GCC' ? 'gcc' : 'commercial';
  const graphHost = hostOfCloud ?? (variant === 'dod' ? 'dod-graph.microsoft.us' : defaultGraphHost(cloud));
  return { tenantId, cloud, variant, graphHost };
}

/**
 * The Graph host of a tenant in a cloud, read at consent. A document that names no host of that cloud, or one
 * that cannot be read, leaves the cloud's default (what every profile used before hosts came from discovery).
 */
export async function tenantGraphHost(loginBase: string, cloud: Cloud, tenantId: string, options: { fetch?: typeof fetch; timeoutMs?: number } = {}): Promise<string> {
  try {
    const found = classifyDiscovery(await readDiscoveryDocument(loginBase, tenantId, options));
    return found && found.cloud === cloud ? found.graphHost : defaultGraphHost(cloud);
  } catch (error) {
    if (error instanceof DiscoveryError) return defaultGraphHost(cloud);
    throw error;
  }
}
