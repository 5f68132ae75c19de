// The web app's names for the shapes of the API, all taken from the generated ./types.ts (the server's OpenAPI
// document): when a route's schema changes, `npm run api:types` changes these with it.
import type { paths } from './types';

type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;
/** The body of a route's success answer (200, or 201 for a creation). */
type Ok<Path extends keyof paths, Method extends keyof paths[Path]> = paths[Path][Method] extends {
  responses: { 200: infer Answer };
}
  ? Json<Answer>
  : paths[Path][Method] extends { responses: { 201: infer Created } }
    ? Json<Created>
    : never;
type Body<Path extends keyof paths, Method extends keyof paths[Path]> = paths[Path][Method] extends {
  requestBody: infer Request;
}
  ? Json<Request>
  : never;

export type Session = Ok<'/api/session', 'get'>;
export type SessionUser = Session['user'];
export type Role = SessionUser['role'];
export type SandboxInfo = Ok<'/api/sandbox', 'get'>;
export type CloudOption = Ok<'/api/app-profiles/clouds', 'get'>['clouds'][number];
export type CloudId = CloudOption['id'];
export type CloudDetection = Ok<'/api/clouds/detect', 'get'>;

export type AppProfile = Ok<'/api/app-profiles/{id}', 'get'>;
export type NameAvailability = Ok<'/api/app-profiles/name-available', 'get'>;
export type AuthorizationUrlAnswer = Ok<'/api/app-profiles', 'post'>;
export type DeleteProfilesAnswer = Ok<'/api/app-profiles/delete', 'post'>;
export type ConsentLinkAnswer = Ok<'/api/consent-links', 'post'>;
export type ConsentLink = Ok<'/api/consent-links', 'get'>['links'][number];
export type BackgroundWork = Ok<'/api/app-profiles/{id}/background-work', 'get'>;
export type DownloadWork = BackgroundWork['downloads'][number];
export type DirectoryPage = Ok<'/api/app-profiles/{id}/directory', 'get'>;
export type DirectoryEntry = DirectoryPage['items'][number];

export type UsersPage = Ok<'/api/users', 'get'>;
export type User = UsersPage['items'][number];
export type AddUsersRequest = Body<'/api/users', 'post'>;
export type AddUsersAnswer = Ok<'/api/users', 'post'>;
export type RemoveUsersAnswer = Ok<'/api/users/delete', 'post'>;
export type ResendInvitationAnswer = Ok<'/api/users/{id}/invitation', 'post'>;
export type ActivationCheck = Ok<'/api/activate/check', 'post'>;

export type AuditPage = Ok<'/api/audit', 'get'>;
export type AuditEntry = AuditPage['items'][number];

export type SignInChoice = Ok<'/auth/microsoft/choices', 'get'>['choices'][number];

export type NotificationsPage = Ok<'/api/notifications', 'get'>;
export type AppNotification = NotificationsPage['items'][number];
export type NotificationSettings = Ok<'/api/notification-settings', 'get'>;
export type NotificationSettingsChange = Body<'/api/notification-settings', 'put'>;
export type Webhook = Ok<'/api/webhooks', 'get'>['webhooks'][number];
export type CreatedWebhook = Ok<'/api/webhooks', 'post'>;
export type WebhookChange = Body<'/api/webhooks/{id}', 'patch'>;
export type WebhookTestAnswer = Ok<'/api/webhooks/{id}/test', 'post'>;
export type WebhookDelivery = Ok<'/api/webhooks/{id}/deliveries', 'get'>['deliveries'][number];
