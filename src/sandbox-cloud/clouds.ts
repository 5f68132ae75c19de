/** The two emulated clouds and what distinguishes them (names as Microsoft's discovery documents give them). */
export type SandboxCloudName = 'global' | 'usgov';

export const CLOUD_NAMES: readonly SandboxCloudName[] = ['global', 'usgov'];

export interface CloudProfile {
  /** `cloud_instance_name` of the real cloud. */
  cloudInstanceName: string;
  tenantRegionScope: string;
  /** Graph resource URI of the real cloud; scopes prefixed with it are accepted like the sandbox's own. */
  microsoftGraphResource: string;
}

export const CLOUD_PROFILES: Record<SandboxCloudName, CloudProfile> = {
  global: { cloudInstanceName: 'microsoftonline.com', tenantRegionScope: 'WW', microsoftGraphResource: 'https://graph.microsoft.com/' },
  usgov: { cloudInstanceName: 'microsoftonline.us', tenantRegionScope: 'USGov', microsoftGraphResource: 'https://graph.microsoft.us/' },
};

export interface CloudUrls {
  login: string;
  graph: string;
}

export function cloudUrls(baseUrl: string, cloud: SandboxCloudName): CloudUrls {
  return { login: `${baseUrl}/${cloud}/login`, graph: `${baseUrl}/${cloud}/graph` };
}
