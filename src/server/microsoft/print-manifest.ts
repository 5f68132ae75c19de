/**
 * `npm run manifest`: prints what to register on the "Tenantgate - User Management" app registration in each
 * Microsoft cloud: the manifest's `requiredResourceAccess` block and the redirect URIs.
 * Reads PUBLIC_URL (default http://localhost:3000).
 */
import { pathToFileURL } from 'node:url';
import { CLOUDS, CLOUD_INFO, type Cloud } from './clouds';
import { requiredResourceAccess, type RequiredResourceAccess } from './permissions';

export const CALLBACK_PATH = '/auth/microsoft/callback';
export const SIGNED_OUT_PATH = '/auth/microsoft/signed-out';

export interface ManifestReport {
  requiredResourceAccess: RequiredResourceAccess[];
  clouds: Record<Cloud, { label: string; registrationPortal: string; redirectUris: string[]; postLogoutRedirectUris: string[] }>;
}

export function buildManifestReport(publicUrl: string | undefined): ManifestReport {
  const raw = publicUrl && publicUrl.trim().length > 0 ? publicUrl.trim() : 'http://localhost:3000';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`PUBLIC_URL is not an absolute URL: ${raw}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('PUBLIC_URL must use http or https');
  const root = `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  const clouds = Object.fromEntries(
    CLOUDS.map((cloud) => [
      cloud,
      {
        label: CLOUD_INFO[cloud].label,
        registrationPortal: CLOUD_INFO[cloud].registrationPortal,
        redirectUris: [`${root}${CALLBACK_PATH}`],
        postLogoutRedirectUris: [`${root}${SIGNED_OUT_PATH}`],
      },
    ]),
  ) as ManifestReport['clouds'];
  return { requiredResourceAccess: requiredResourceAccess(), clouds };
}

export function formatManifestReport(report: ManifestReport): string {
  const lines: string[] = [];
  lines.push('requiredResourceAccess (paste into the app registration manifest, identical in every cloud):');
  lines.push(JSON.stringify(report.requiredResourceAccess, null, 2));
  for (const cloud of CLOUDS) {
    const c = report.clouds[cloud];
    lines.push('');
    lines.push(`${c.label} (${cloud}) - register in ${c.registrationPortal}:`);
    lines.push('  Platform: Web. Supported account types: accounts in any organizational directory (multi-tenant).');
    for (const uri of c.redirectUris) lines.push(`  Redirect URI:             ${uri}`);
    for (const uri of c.postLogoutRedirectUris) lines.push(`  Redirect URI (sign-out):  ${uri}`);
  }
  return lines.join('\n');
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  try {
    console.log(formatManifestReport(buildManifestReport(process.env.PUBLIC_URL)));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
