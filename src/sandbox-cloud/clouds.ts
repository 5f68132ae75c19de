/** The emulated clouds and what distinguishes them (names as Microsoft's discovery documents give them). */
export type SandboxCloudName = 'global' | 'usgov' | 'china';

export const CLOUD_NAMES: readonly SandboxCloudName[] = ['global', 'usgov', 'china'];

/**
 * The kind of tenant within its cloud, as Microsoft 365 sells them: GCC (Moderate) tenants live in the global
 * cloud, GCC High and DoD tenants in the US Government cloud. Absent: a commercial tenant (or a China one).
 */
export type TenantVariant = 'gcc' | 'gcc-high' | 'dod';

export const VARIANT_CLOUD: Record<TenantVariant, SandboxCloudName> = { gcc: 'global', 'gcc-high': 'usgov', dod: 'usgov' };

export interface CloudProfile {
  /** `cloud_instance_name` of the real cloud. */
  cloudInstanceName: string;
  /** `tenant_region_scope` of the cloud's commercial tenants (a variant may say otherwise). */
  tenantRegionScope: string;
  /** `msgraph_host` of the real cloud: discovery documents report it as Microsoft does. */
  graphHost: string;
}

export const CLOUD_PROFILES: Record<SandboxCloudName, CloudProfile> = {
  global: { cloudInstanceName: 'microsoftonline.com', tenantRegionScope: 'WW', graphHost: 'graph.microsoft.com' },
  usgov: { cloudInstanceName: 'microsoftonline.us', tenantRegionScope: 'USGov', graphHost: 'graph.microsoft.us' },
  china: { cloudInstanceName: 'partner.microsoftonline.cn', tenantRegionScope: 'AS', graphHost: 'microsoftgraph.chinacloudapi.cn' },
};

/** What a variant's tenants report in their discovery documents (values as Microsoft publishes them). */
export const VARIANT_PROFILES: Record<TenantVariant, { tenantRegionScope: string; tenantRegionSubScope: string; graphHost: string }> = {
  gcc: { tenantRegionScope: 'NA', tenantRegionSubScope: 'GCC', graphHost: 'graph.microsoft.com' },
  'gcc-high': { tenantRegionScope: 'USGov', tenantRegionSubScope: 'DODCON', graphHost: 'graph.microsoft.us' },
  dod: { tenantRegionScope: 'USGov', tenantRegionSubScope: 'DOD', graphHost: 'dod-graph.microsoft.us' },
};

/**
 * Where Graph answers: one site per cloud under `/{cloud}/graph`, plus DoD tenants' own under `/usgov-dod/graph`
 * (the stand-in for dod-graph.microsoft.us). A site serves only the tenants whose Graph host it stands for.
 */
export interface GraphSite {
  /** Path segment: `/{name}/graph/v1.0/...`. */
  name: string;
  cloud: SandboxCloudName;
  /** The real Graph host this site stands for. */
  host: string;
}

export const GRAPH_SITES: readonly GraphSite[] = [
  { name: 'global', cloud: 'global', host: 'graph.microsoft.com' },
  { name: 'usgov', cloud: 'usgov', host: 'graph.microsoft.us' },
  { name: 'usgov-dod', cloud: 'usgov', host: 'dod-graph.microsoft.us' },
  { name: 'china', cloud: 'china', host: 'microsoftgraph.chinacloudapi.cn' },
];

/** The real Graph host of a tenant: its variant's, else its cloud's. */
export function tenantGraphHost(tenant: { cloud: SandboxCloudName; variant?: TenantVariant }): string {
  return tenant.variant ? VARIANT_PROFILES[tenant.variant].graphHost : CLOUD_PROFILES[tenant.cloud].graphHost;
}

export interface CloudUrls {
  login: string;
  /** Graph base of the cloud's default host (without /v1.0). */
  graph: string;
  /** Every Graph host of the cloud → the base URL of the site standing in for it. */
  graphHosts: Record<string, string>;
}

export function cloudUrls(baseUrl: string, cloud: SandboxCloudName): CloudUrls {
  const graphHosts = Object.fromEntries(GRAPH_SITES.filter((s) => s.cloud === cloud).map((s) => [s.host, graphSiteUrl(baseUrl, s)]));
  return { login: `${baseUrl}/${cloud}/login`, graph: `${baseUrl}/${cloud}/graph`, graphHosts };
}

export function graphSiteUrl(baseUrl: string, site: GraphSite): string {
  return `${baseUrl}/${site.name}/graph`;
}

/** The Graph site that serves this tenant (DoD tenants: `usgov-dod`). */
export function graphSiteOf(tenant: { cloud: SandboxCloudName; variant?: TenantVariant }): GraphSite {
  const host = tenantGraphHost(tenant);
  return GRAPH_SITES.find((s) => s.cloud === tenant.cloud && s.host === host)!;
}
