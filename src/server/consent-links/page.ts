import { describeAadsts } from '../microsoft/aadsts';
import { CLOUD_INFO, type Cloud } from '../microsoft/clouds';
import { GRAPH_PERMISSION_NAMES, GRAPH_PERMISSIONS, type GraphPermission } from '../microsoft/permissions';
import type { ConsentLinkState } from './service';

/** Why Tenantgate needs each permission, in the words shown to the Global Administrator. */
const WHY: Readonly<Record<GraphPermission, string>> = {
  'User.Read': 'to sign you in and read your own profile',
  'User.Read.All': 'to find the users the partner adds as portal users and keep their names and status in step',
  'Group.Read.All': 'to find the groups the partner adds, so their members can sign in',
  'Directory.Read.All': 'to confirm that the consenting account is a Global Administrator',
  'GroupMember.Read.All': 'to check who belongs to an added group, also when a member signs in',
  'Organization.Read.All': 'to show your tenant’s name to the partner',
  'Domain.Read.All': 'to show your tenant’s domains to the partner',
};

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer"><title>${escape(title)} – Tenantgate</title></head>
<body><main><h1>${escape(title)}</h1>
${body}
</main></body>
</html>`;
}

export interface LinkPageInput {
  partnerName: string;
  profileName: string;
  reauthorize: boolean;
  cloud: Cloud;
  expiresAt: string;
  token: string;
}

/** The link's page: who asks, for what, why and in which cloud, then on to Microsoft. */
export function consentRequestPage(input: LinkPageInput): string {
  const what = input.reauthorize
    ? `authorize its connection “${escape(input.profileName)}” to your Microsoft 365 tenant again`
    : `connect your Microsoft 365 tenant to its Tenantgate portal as “${escape(input.profileName)}”`;
  const rows = GRAPH_PERMISSION_NAMES.map((p) => `<tr><td>${escape(GRAPH_PERMISSIONS[p].consentText)}</td><td>${escape(p)}</td><td>${escape(WHY[p])}</td></tr>`).join('\n');
  return page(
    `${input.partnerName} asks for your consent`,
    `<p><strong>${escape(input.partnerName)}</strong> asks you, as a Global Administrator of your organization’s Microsoft 365 tenant, to ${what}.</p>
<p>Cloud: <strong>${escape(CLOUD_INFO[input.cloud].label)}</strong>. This link works once and until ${escape(new Date(input.expiresAt).toUTCString())}.</p>
<p>Microsoft will ask you to sign in and to accept these delegated permissions of the “Tenantgate - User Management” app, for your whole organization. They only read; nothing in your tenant is changed.</p>
<table><caption>Permissions requested</caption><thead><tr><th scope="col">Microsoft shows</th><th scope="col">Permission</th><th scope="col">Why</th></tr></thead><tbody>
${rows}
</tbody></table>
<p><a href="/consent/${escape(input.token)}/continue" rel="nofollow">Continue to Microsoft</a></p>
<p>If you did not expect this request, close this page: nothing happens without your consent at Microsoft.</p>`,
  );
}

const STATE_TEXT: Record<Exclude<ConsentLinkState, 'waiting'>, string> = {
  used: 'This consent link was already used. Nothing was changed. Ask the partner for a new link if needed.',
  expired: 'This consent link has expired. Nothing was changed. Ask the partner for a new link.',
  revoked: 'This consent link was withdrawn by the partner. Nothing was changed. Ask the partner for a new link if needed.',
};

/** The page of a link that no longer waits (or never existed). */
export function consentLinkClosedPage(state: Exclude<ConsentLinkState, 'waiting'> | 'unknown'): string {
  if (state === 'unknown') return page('Consent link not found', '<p>This consent link does not exist. Nothing was changed. Check that the whole link was copied, or ask the partner for a new one.</p>');
  return page(state === 'expired' ? 'Consent link expired' : state === 'revoked' ? 'Consent link withdrawn' : 'Consent link already used', `<p>${escape(STATE_TEXT[state])}</p>`);
}

const REFUSALS: Record<string, string> = {
  NOT_GLOBAL_ADMIN: 'The account you signed in with is not a Global Administrator of its tenant. Open the link again and sign in with a Global Administrator.',
  CONSENT_CANCELLED: 'Consent was cancelled at Microsoft. Open the link again and click Accept.',
  MISSING_PERMISSIONS: 'The consent did not grant every permission. Open the link again and accept every permission; if your tenant’s app consent policy blocks one, allow it in Microsoft Entra first.',
  TENANT_ALREADY_CONNECTED: 'Your tenant is already connected to this partner’s portal. Tell the partner: they can re-authorize the existing connection instead.',
  WRONG_TENANT: 'The account belongs to another Microsoft 365 tenant than the one this link is for. Open the link again and sign in with a Global Administrator of that tenant.',
  NAME_TAKEN: 'The partner meanwhile used the requested name for another connection. Ask the partner for a new link.',
  PROFILE_NOT_FOUND: 'The partner deleted the connection this link was for. Ask the partner for a new link.',
  STATE_INVALID: 'The answer from Microsoft could not be verified. Open the link again in the same browser.',
  MICROSOFT_ERROR: 'Microsoft’s answer could not be used. Open the link again in a few minutes.',
  UNEXPECTED_ERROR: 'The portal could not finish the connection. Open the link again in a few minutes; if it keeps failing, tell the partner.',
};

/** What the Global Administrator reads after Microsoft: the outcome, and what to do on a refusal. */
export function consentOutcomePage(input: { partnerName: string; profileName: string; outcome: string | null; stillOpen: boolean }): string {
  if (input.outcome === 'created' || input.outcome === 'reauthorized') {
    const done = input.outcome === 'created' ? 'is now connected' : 'is authorized again';
    return page('Thank you', `<p>Your tenant ${done} as “${escape(input.profileName)}” for ${escape(input.partnerName)}. You can close this page.</p>`);
  }
  const code = input.outcome ?? 'MICROSOFT_ERROR';
  const aadsts = /^AADSTS(\d+)$/.exec(code);
  const text = REFUSALS[code] ?? (aadsts ? `${describeAadsts(Number(aadsts[1])).cause} Open the link again; if it keeps failing, tell the partner the code ${code}.` : REFUSALS.MICROSOFT_ERROR);
  const again = input.stillOpen ? ' Nothing was changed; the link still works until it expires.' : ' Nothing was changed.';
  return page('Not connected', `<p>${escape(text)}${again}</p>`);
}
