import { escapeHtml as e } from '../http';

/**
 * The pages a person sees: plain server-rendered HTML forms, no scripts. Every form carries only the opaque
 * flow id; the flow itself (client, redirect URI, scopes, PKCE challenge…) stays on the server.
 */

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)} - Sandbox Microsoft cloud</title>
<style>body{font-family:Segoe UI,system-ui,sans-serif;background:#f2f2f2;margin:0}main{max-width:440px;margin:48px auto;background:#fff;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}label{display:block;margin-top:12px}input[type=email],input[type=password],input[type=text]{width:100%;padding:6px;box-sizing:border-box}button{margin-top:16px;margin-right:8px;padding:6px 16px}.error{color:#e81123}.banner{font-size:12px;color:#666}ul{padding-left:20px}</style>
</head>
<body><main><p class="banner">Sandbox Microsoft cloud</p>
${body}
</main></body></html>`;
}

function hidden(flowId: string): string {
  return `<input type="hidden" name="flow" value="${e(flowId)}">`;
}

export function signInPage(input: { action: string; flowId: string; email?: string; error?: string }): string {
  const error = input.error ? `<p class="error" role="alert" id="error">${e(input.error)}</p>` : '';
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
${error}
<form method="post" action="${e(input.action)}">
${hidden(input.flowId)}
<label for="email">Email</label>
<input type="email" id="email" name="email" autocomplete="username" value="${e(input.email ?? '')}" required>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}

export function accountPickerPage(input: { action: string; flowId: string; accounts: { userId: string; email: string; displayName: string }[] }): string {
  const buttons = input.accounts
    .map((a) => `<li><button type="submit" name="account" value="${e(a.userId)}" aria-label="${e(`${a.displayName} ${a.email}`)}">${e(a.displayName)} &lt;${e(a.email)}&gt;</button></li>`)
    .join('\n');
  return layout(
    'Pick an account',
    `<h1>Pick an account</h1>
<form method="post" action="${e(input.action)}">
${hidden(input.flowId)}
<ul>
${buttons}
<li><button type="submit" name="account" value="another">Use another account</button></li>
</ul>
</form>`,
  );
}

export function consentPage(input: { action: string; flowId: string; appName: string; tenantName: string; userEmail: string; lines: string[]; forOrganization: boolean }): string {
  const lines = input.lines.map((line) => `<li>${e(line)}</li>`).join('\n');
  const scopeNote = input.forOrganization
    ? `<p>Accepting grants these permissions for everyone in <strong>${e(input.tenantName)}</strong>.</p>`
    : `<p>Accepting grants these permissions for your account in <strong>${e(input.tenantName)}</strong>.</p>`;
  return layout(
    'Permissions requested',
    `<h1>Permissions requested</h1>
<p>Signed in as ${e(input.userEmail)}</p>
<p><strong id="app-name">${e(input.appName)}</strong> would like to access <span id="tenant-name">${e(input.tenantName)}</span>.</p>
<p>This app would like to:</p>
<ul id="permissions">
${lines}
</ul>
${scopeNote}
<form method="post" action="${e(input.action)}">
${hidden(input.flowId)}
<button type="submit" name="decision" value="accept">Accept</button>
<button type="submit" name="decision" value="cancel">Cancel</button>
</form>`,
  );
}

export function adminApprovalPage(input: { action: string; flowId: string; appName: string; tenantName: string; userEmail: string; description: string }): string {
  return layout(
    'Need admin approval',
    `<h1>Need admin approval</h1>
<p>Signed in as ${e(input.userEmail)}</p>
<p><strong>${e(input.appName)}</strong> needs permission to access resources in <strong>${e(input.tenantName)}</strong> that only an admin can grant. Please ask an admin to grant permission to this app before you can use it.</p>
<p class="error" id="error">${e(input.description)}</p>
<form method="post" action="${e(input.action)}">
${hidden(input.flowId)}
<button type="submit" name="decision" value="back">Return to the application without granting consent</button>
</form>`,
  );
}

export function errorPage(input: { code: number; message: string; correlationId: string; timestamp: string }): string {
  return layout(
    "Sorry, but we're having trouble signing you in.",
    `<h1>Sorry, but we're having trouble signing you in.</h1>
<p class="error" role="alert" id="error">AADSTS${input.code}: ${e(input.message)}</p>
<p>Correlation ID: ${e(input.correlationId)}<br>Timestamp: ${e(input.timestamp)}</p>`,
  );
}

export function signedOutPage(): string {
  return layout('You signed out', '<h1>You signed out of your account</h1><p>You signed out. It\'s a good idea to close all browser windows.</p>');
}
