import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api, query, setCsrfToken } from './client';
import type {
  ActivationCheck,
  AddUsersAnswer,
  AddUsersRequest,
  AppProfile,
  AuditPage,
  AuthorizationUrlAnswer,
  BackgroundWork,
  CloudDetection,
  CloudId,
  CloudOption,
  ConsentLink,
  ConsentLinkAnswer,
  DeleteProfilesAnswer,
  DirectoryPage,
  NameAvailability,
  NotificationSettings,
  NotificationSettingsChange,
  NotificationsPage,
  CreatedWebhook,
  Webhook,
  WebhookChange,
  WebhookDelivery,
  WebhookTestAnswer,
  RemoveUsersAnswer,
  ResendInvitationAnswer,
  Role,
  SandboxInfo,
  Session,
  SignInChoice,
  User,
  UsersPage,
} from './models';

export const keys = {
  session: ['session'] as const,
  sandbox: ['sandbox'] as const,
  clouds: ['clouds'] as const,
  appProfiles: ['app-profiles'] as const,
  consentLinks: ['consent-links'] as const,
  backgroundWork: (profileId: string) => ['background-work', profileId] as const,
  users: (list: UserListOptions) => ['users', list] as const,
  usersAll: ['users'] as const,
  audit: (filters: AuditFilters) => ['audit', filters] as const,
  directory: (profileId: string, type: string, search: string) => ['directory', profileId, type, search] as const,
  notifications: ['notifications'] as const,
  openAlerts: (profileId: string) => ['notifications', 'open', profileId] as const,
  notificationSettings: ['notification-settings'] as const,
  webhooks: ['webhooks'] as const,
  webhookDeliveries: (id: string) => ['webhooks', id, 'deliveries'] as const,
};

// ---- session ----

export function useSession() {
  return useQuery({
    queryKey: keys.session,
    queryFn: async (): Promise<Session | null> => {
      try {
        const session = await api.get<Session>('/api/session');
        setCsrfToken(session.csrfToken);
        return session;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
          setCsrfToken(null);
          return null;
        }
        throw error;
      }
    },
    staleTime: 60_000,
    retry: false,
  });
}

function useSessionMutation<V>(call: (variables: V) => Promise<Session>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSuccess: (session) => {
      setCsrfToken(session.csrfToken);
      client.setQueryData(keys.session, session);
    },
  });
}

export function useSignUp() {
  return useSessionMutation((body: { organizationName: string; email: string; password: string }) =>
    api.post<Session>('/api/signup', body),
  );
}

export function useSignIn() {
  return useSessionMutation((body: { email: string; password: string }) => api.post<Session>('/api/session', body));
}

export function useSignOut() {
  return useMutation({ mutationFn: () => api.del<unknown>('/api/session') });
}

export function useActivate() {
  return useMutation({
    mutationFn: (body: { token: string; password: string }) => api.post<unknown>('/api/activate', body),
  });
}

/** Asks, when the activation page opens, whether its link still works (so nobody types a password for nothing). */
export function useActivationCheck(token: string) {
  return useQuery({
    queryKey: ['activation', token],
    queryFn: () => api.post<ActivationCheck>('/api/activate/check', { token }),
    enabled: Boolean(token),
    retry: false,
    staleTime: Infinity,
  });
}

export function useResendInvitation() {
  return useMutation({
    mutationFn: (id: string) => api.post<ResendInvitationAnswer>(`/api/users/${encodeURIComponent(id)}/invitation`),
  });
}

export function useSignInChoices(enabled: boolean) {
  return useQuery({
    queryKey: ['signin-choices'],
    queryFn: () => api.get<{ choices: SignInChoice[] }>('/auth/microsoft/choices'),
    enabled,
    retry: false,
  });
}

export function useChooseSignIn() {
  return useMutation({
    mutationFn: (partnerId: string) => api.post<unknown>('/auth/microsoft/choose', { partnerId }),
  });
}

// ---- sandbox and clouds ----

export function useSandbox() {
  return useQuery({
    queryKey: keys.sandbox,
    queryFn: () => api.get<SandboxInfo>('/api/sandbox'),
    staleTime: Infinity,
    retry: false,
  });
}

/** "Which version is this tenant in?" from one of its domains (GET /api/clouds/detect), run when asked. */
export function useDetectCloud() {
  return useMutation({
    mutationFn: (domain: string) => api.get<CloudDetection>(`/api/clouds/detect?domain=${encodeURIComponent(domain)}`),
  });
}

export function useClouds(enabled = true) {
  return useQuery({
    queryKey: keys.clouds,
    queryFn: () => api.get<{ clouds: CloudOption[] }>('/api/app-profiles/clouds'),
    staleTime: Infinity,
    enabled,
  });
}

// ---- app profiles ----

/** Every profile of the partner: the API answers pages of up to 500, followed here by their cursors. */
async function allAppProfiles(): Promise<{ items: AppProfile[] }> {
  const items: AppProfile[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: AppProfile[]; nextCursor?: string | null } = await api.get(`/api/app-profiles${query({ cursor: cursor ?? undefined })}`);
    items.push(...page.items);
    cursor = page.nextCursor ?? null;
  } while (cursor);
  return { items };
}

export function useAppProfiles(enabled = true) {
  return useQuery({
    queryKey: keys.appProfiles,
    queryFn: allAppProfiles,
    select: (data) => data.items,
    enabled,
  });
}

/** Create's first step: whether the partner already has a profile of that name (asked as Continue is chosen). */
export function useProfileNameCheck() {
  return useMutation({
    mutationFn: (name: string) => api.get<NameAvailability>(`/api/app-profiles/name-available${query({ name })}`),
  });
}

export function useCreateAppProfile() {
  return useMutation({
    mutationFn: (body: { name: string; cloud: CloudId; returnTo?: string }) =>
      api.post<AuthorizationUrlAnswer>('/api/app-profiles', body),
  });
}

export function useRenameAppProfile() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, name }: { id: string; name: string }) =>
      api.patch<AppProfile>(`/api/app-profiles/${encodeURIComponent(id)}`, { name }),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.appProfiles }),
  });
}

export function useReauthorizeAppProfile() {
  return useMutation({
    mutationFn: ({ id, account, returnTo }: { id: string; account: 'current' | 'another'; returnTo?: string }) =>
      api.post<AuthorizationUrlAnswer>(`/api/app-profiles/${encodeURIComponent(id)}/reauthorize`, {
        account,
        returnTo,
      }),
  });
}

export function useCheckAppProfile() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.post<AppProfile>(`/api/app-profiles/${encodeURIComponent(id)}/check`),
    // A check can raise or resolve an alert: the bell shows it at once.
    onSettled: () => Promise.all([client.invalidateQueries({ queryKey: keys.appProfiles }), client.invalidateQueries({ queryKey: keys.notifications })]),
  });
}

/** A profile's background work, followed every 2 s while a download is queued or running, every 15 s otherwise. */
export function useBackgroundWork(profileId: string) {
  return useQuery({
    queryKey: keys.backgroundWork(profileId),
    queryFn: () => api.get<BackgroundWork>(`/api/app-profiles/${encodeURIComponent(profileId)}/background-work`),
    refetchInterval: (q) => (q.state.data?.downloads.some((d) => d.state === 'queued' || d.state === 'running') ? 2_000 : 15_000),
  });
}

export function useRetryBackgroundJob(profileId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (jobId: string) =>
      api.post<BackgroundWork>(`/api/app-profiles/${encodeURIComponent(profileId)}/background-work/${encodeURIComponent(jobId)}/retry`),
    onSuccess: (work) => client.setQueryData(keys.backgroundWork(profileId), work),
    onSettled: () => Promise.all([client.invalidateQueries({ queryKey: keys.backgroundWork(profileId) }), client.invalidateQueries({ queryKey: keys.usersAll })]),
  });
}

/** "Sync now": the profile's directory sync at once; answers the background work with it running or done. */
export function useSyncNow(profileId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<BackgroundWork>(`/api/app-profiles/${encodeURIComponent(profileId)}/background-work/sync`),
    onSuccess: (work) => client.setQueryData(keys.backgroundWork(profileId), work),
    onSettled: () => client.invalidateQueries({ queryKey: keys.backgroundWork(profileId) }),
  });
}

// ---- consent links ----

export function useConsentLinks() {
  return useQuery({
    queryKey: keys.consentLinks,
    queryFn: () => api.get<{ links: ConsentLink[] }>('/api/consent-links'),
    select: (data) => data.links,
  });
}

/** A link for a new profile (`profileId` absent) or for re-authorizing one. */
export function useCreateConsentLink() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { profileId?: string; name?: string; cloud?: CloudId; email?: string }) =>
      body.profileId
        ? api.post<ConsentLinkAnswer>(`/api/app-profiles/${encodeURIComponent(body.profileId)}/consent-links`, { email: body.email })
        : api.post<ConsentLinkAnswer>('/api/consent-links', { name: body.name, cloud: body.cloud, email: body.email }),
    onSettled: () => client.invalidateQueries({ queryKey: keys.consentLinks }),
  });
}

export function useRevokeConsentLink() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.del<null>(`/api/consent-links/${encodeURIComponent(id)}`),
    onSettled: () => client.invalidateQueries({ queryKey: keys.consentLinks }),
  });
}

export function useDeleteAppProfiles() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (ids: string[]) => api.post<DeleteProfilesAnswer>('/api/app-profiles/delete', { ids }),
    onSettled: () => client.invalidateQueries({ queryKey: keys.appProfiles }),
  });
}

export function useDirectory(profileId: string | null, type: 'user' | 'group', search: string) {
  return useInfiniteQuery({
    queryKey: keys.directory(profileId ?? '', type, search),
    queryFn: ({ pageParam }) =>
      api.get<DirectoryPage>(
        `/api/app-profiles/${encodeURIComponent(profileId ?? '')}/directory${query({ type, search, cursor: pageParam })}`,
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor || undefined,
    enabled: Boolean(profileId),
    retry: false,
  });
}

// ---- users ----

/** What the users list shows: filters, search and sort (the API's query options; empty means "any"). */
export interface UserListOptions {
  role: string;
  search: string;
  appProfileId: string;
  signInType: string;
  status: string;
  sort: 'email' | 'name' | 'role' | 'signInType' | 'status';
  order: 'asc' | 'desc';
}

export function useUsers(list: UserListOptions) {
  return useInfiniteQuery({
    queryKey: keys.users(list),
    queryFn: ({ pageParam }) => api.get<UsersPage>(`/api/users${query({ ...list, limit: 100, cursor: pageParam })}`),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor || undefined,
    refetchInterval: (q) => {
      const pages = q.state.data?.pages ?? [];
      const syncing = pages.some((page) => page.items.some((user) => user.progress));
      return syncing ? 3000 : false;
    },
  });
}

export function useAddUsers() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: AddUsersRequest) => api.post<AddUsersAnswer>('/api/users', body),
    onSettled: () => client.invalidateQueries({ queryKey: keys.usersAll }),
  });
}

export function useDeleteUsers() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (ids: string[]) => api.post<RemoveUsersAnswer>('/api/users/delete', { ids }),
    onSettled: () => client.invalidateQueries({ queryKey: keys.usersAll }),
  });
}

/** Starts a group's member download again after it failed (the list polls while it runs). */
export function useRestartDownload() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.post<User>(`/api/users/${encodeURIComponent(id)}/download-members`),
    onSettled: () => client.invalidateQueries({ queryKey: keys.usersAll }),
  });
}

export function useChangeUserRole() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, role }: { id: string; role: Role }) => api.patch<User>(`/api/users/${encodeURIComponent(id)}`, { role }),
    onSettled: () => client.invalidateQueries({ queryKey: keys.usersAll }),
  });
}

// ---- audit ----

/** The audit log's filters as the API takes them (empty means "any"); `from`/`to` are ISO moments. */
export interface AuditFilters {
  outcome: string;
  action: string;
  actor: string;
  from: string;
  to: string;
}

/** Where the CSV export of the filtered audit log downloads from (a plain GET with the session cookie). */
export const auditExportUrl = (filters: AuditFilters) => `/api/audit/export.csv${query({ ...filters })}`;

export function useAudit(filters: AuditFilters) {
  return useInfiniteQuery({
    queryKey: keys.audit(filters),
    queryFn: ({ pageParam }) =>
      api.get<AuditPage>(`/api/audit${query({ limit: 50, cursor: pageParam, ...filters })}`),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor || undefined,
  });
}

// ---- notifications ----

/** The newest alerts and the unread count, polled so the bell shows what happens while the page is open. */
export function useNotifications(enabled: boolean) {
  return useQuery({
    queryKey: keys.notifications,
    queryFn: () => api.get<NotificationsPage>(`/api/notifications${query({ limit: 50 })}`),
    enabled,
    refetchInterval: 60_000,
  });
}

/** A profile's open (unresolved) alerts, for the banner on its page; refreshed with the bell. */
export function useOpenAlerts(profileId: string) {
  return useQuery({
    queryKey: keys.openAlerts(profileId),
    queryFn: () => api.get<NotificationsPage>(`/api/notifications${query({ appProfileId: profileId, open: 'true' })}`),
    refetchInterval: 60_000,
  });
}

export function useMarkNotificationsRead() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (ids: string[]) => api.post<null>('/api/notifications/read', { ids }),
    onSettled: () => client.invalidateQueries({ queryKey: keys.notifications }),
  });
}

export function useNotificationSettings() {
  return useQuery({ queryKey: keys.notificationSettings, queryFn: () => api.get<NotificationSettings>('/api/notification-settings') });
}

export function useSaveNotificationSettings() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: NotificationSettingsChange) => api.put<NotificationSettings>('/api/notification-settings', body),
    onSuccess: (settings) => client.setQueryData(keys.notificationSettings, settings),
    onSettled: () => client.invalidateQueries({ queryKey: keys.notifications }),
  });
}

// ---- webhooks ----

export function useWebhooks() {
  return useQuery({ queryKey: keys.webhooks, queryFn: () => api.get<{ webhooks: Webhook[] }>('/api/webhooks') });
}

export function useWebhookDeliveries(id: string) {
  return useQuery({
    queryKey: keys.webhookDeliveries(id),
    queryFn: () => api.get<{ deliveries: WebhookDelivery[] }>(`/api/webhooks/${encodeURIComponent(id)}/deliveries?limit=5`),
  });
}

export function useCreateWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (url: string) => api.post<CreatedWebhook>('/api/webhooks', { url }),
    onSettled: () => client.invalidateQueries({ queryKey: keys.webhooks }),
  });
}

export function useUpdateWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: WebhookChange & { id: string }) => api.patch<Webhook>(`/api/webhooks/${encodeURIComponent(id)}`, body),
    onSettled: () => client.invalidateQueries({ queryKey: keys.webhooks }),
  });
}

export function useDeleteWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.del<null>(`/api/webhooks/${encodeURIComponent(id)}`),
    onSettled: () => client.invalidateQueries({ queryKey: keys.webhooks }),
  });
}

export function useTestWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.post<WebhookTestAnswer>(`/api/webhooks/${encodeURIComponent(id)}/test`),
    onSettled: (_answer, _error, id) => client.invalidateQueries({ queryKey: keys.webhookDeliveries(id) }),
  });
}
