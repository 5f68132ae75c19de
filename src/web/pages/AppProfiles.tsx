import {
  Badge,
  Body1,
  Button,
  Caption1,
  Text,
  createTableColumn,
  makeStyles,
  mergeClasses,
  tokens,
  type TableColumnDefinition,
  type TableColumnSizingOptions,
} from '@fluentui/react-components';
import {
  AddRegular,
  ArrowSyncRegular,
  DeleteRegular,
  EditRegular,
  KeyResetRegular,
  WarningRegular,
} from '@fluentui/react-icons';
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { errorMessage } from '../api/client';
import { useAppProfiles, useCheckAppProfile } from '../api/hooks';
import { ProfileAlerts } from '../components/ProfileAlerts';
import type { AppProfile, DeleteProfilesAnswer } from '../api/models';
import {
  CreateProfileDialog,
  DeleteProfilesDialog,
  ReauthorizeDialog,
  RenameProfileDialog,
} from '../components/AppProfileDialogs';
import { AppLink } from '../components/AppLink';
import { BackgroundWorkSection } from '../components/BackgroundWork';
import { CommandBar } from '../components/CommandBar';
import { ErrorBar, Loading, Notice } from '../components/Feedback';
import { SelectableGrid, useSelection, type GridSort } from '../components/SelectableGrid';
import { TruncatedText } from '../components/TruncatedText';
import { blockedProfileMessage, cloudLabel, formatTime, lapsesText, statusLabel } from '../format';
import { safeNextPath } from '../outcomes';
import { PageHeader } from '../components/PageHeader';
import { WaitingConsentLinks } from '../components/WaitingConsentLinks';

const PAGE_PATH = '/settings/app-profiles';

const useStyles = makeStyles({
  status: { display: 'flex', flexDirection: 'column', alignItems: 'flex-start', gap: tokens.spacingVerticalXXS, minWidth: 0, maxWidth: '100%' },
  warning: { color: tokens.colorPaletteDarkOrangeForeground1, display: 'flex', gap: '4px', alignItems: 'center' },
  muted: { color: tokens.colorNeutralForeground3 },
  empty: { maxWidth: '760px', display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  badge: { whiteSpace: 'nowrap' },
  fit: { display: 'block', minWidth: 0, maxWidth: '100%' },
  hint: { display: 'block', marginTop: tokens.spacingVerticalL },
});

const profileId = (profile: AppProfile) => profile.id;
const profileName = (profile: AppProfile) => profile.name;
const byText = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

/**
 * Column widths (px, padding aside): the ideal ones fill a 1366 px window with a time on one line; the minimums
 * (the table's narrowest, about 1100 px with the selection boxes) are where it starts to scroll sideways instead.
 */
const PROFILE_COLUMN_SIZES: TableColumnSizingOptions = {
  name: { minWidth: 120, idealWidth: 150 },
  status: { minWidth: 150, idealWidth: 180 },
  tenant: { minWidth: 120, idealWidth: 150 },
  domain: { minWidth: 100, idealWidth: 100 },
  // "U.S. Government" on one line.
  cloud: { minWidth: 80, idealWidth: 110 },
  authorizedBy: { minWidth: 120, idealWidth: 150 },
  authorizedAt: { minWidth: 120, idealWidth: 153 },
  lastCheckedAt: { minWidth: 120, idealWidth: 153 },
};

interface Message {
  intent: 'success' | 'error' | 'warning';
  content: ReactNode;
}

export function AppProfilesPage() {
  const styles = useStyles();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const profiles = useAppProfiles();
  const check = useCheckAppProfile();
  const [createOpen, setCreateOpen] = useState(() => params.get('create') === '1');
  const [renaming, setRenaming] = useState<AppProfile | null>(null);
  const [reauthorizing, setReauthorizing] = useState<AppProfile | null>(null);
  const [deleting, setDeleting] = useState<AppProfile[] | null>(null);
  const [message, setMessage] = useState<Message | null>(null);
  // The whole list is loaded (a partner has a handful of profiles): sorted here, by name first.
  const [sort, setSort] = useState<GridSort>({ sortColumn: 'name', sortDirection: 'ascending' });

  const returnToParam = params.get('returnTo');
  const returnTo = returnToParam ? safeNextPath(returnToParam) : PAGE_PATH;

  const items = useMemo(() => profiles.data ?? [], [profiles.data]);
  const selection = useSelection(items, profileId);
  const selectedProfiles = selection.selectedItems;
  const single = selectedProfiles.length === 1 ? selectedProfiles[0] : null;
  // The background work of the selected profile, or of the only one.
  const shownWork = single ?? (items.length === 1 ? items[0] : null);

  // "?reauthorize=<id>" (the expired-profile banner's action elsewhere) opens that profile's Re-authorize dialog.
  const reauthorizeId = params.get('reauthorize');
  useEffect(() => {
    if (!reauthorizeId || !profiles.data) return;
    const profile = profiles.data.find((candidate) => candidate.id === reauthorizeId);
    if (profile) setReauthorizing(profile);
    const next = new URLSearchParams(params);
    next.delete('reauthorize');
    setParams(next, { replace: true });
  }, [reauthorizeId, profiles.data, params, setParams]);

  const closeCreate = () => {
    setCreateOpen(false);
    if (params.get('create') === '1') {
      if (returnToParam) {
        navigate(returnTo);
        return;
      }
      const next = new URLSearchParams(params);
      next.delete('create');
      setParams(next, { replace: true });
    }
  };

  const onDeleted = (answer: DeleteProfilesAnswer, chosen: AppProfile[]) => {
    setDeleting(null);
    selection.clear();
    const names = chosen.filter((profile) => answer.deleted.includes(profile.id)).map((profile) => profile.name);
    // Refused by the server (put in use since the list was loaded): the refusal links to the users that block it.
    const refusals = answer.blocked.map((blocked) => ({
      id: blocked.id,
      text: blockedProfileMessage({ ...blocked, name: blocked.name ?? chosen.find((profile) => profile.id === blocked.id)?.name }),
    }));
    if (names.length === 0 && refusals.length === 0) return;
    setMessage({
      intent: refusals.length ? (names.length ? 'warning' : 'error') : 'success',
      content: (
        <>
          {names.length ? <div>Deleted: {names.join(', ')}.</div> : null}
          {refusals.map((refusal) => (
            <div key={refusal.id}>
              {refusal.text}{' '}
              <AppLink to={`/settings/users?appProfile=${encodeURIComponent(refusal.id)}`}>See who uses it</AppLink>
            </div>
          ))}
        </>
      ),
    });
  };

  const onCheck = () => {
    if (!single) return;
    // The command bar has already cleared the previous action's message (its onCommand).
    selection.clear();
    check.mutate(single.id, {
      onSuccess: (profile) => {
        if (profile.status === 'active') {
          const lastError = profile.lastCheckError;
          setMessage(
            lastError
              ? {
                  intent: 'warning',
                  content: `“${profile.name}”: Last check failed at ${formatTime(lastError.at)}: ${lastError.message}`,
                }
              : { intent: 'success', content: `“${profile.name}” is active. The app authorization works.` },
          );
        } else {
          setMessage({
            intent: 'error',
            content: [
              `“${profile.name}”: App authorization expired.`,
              profile.statusReason?.message,
              profile.statusReason?.fix,
            ]
              .filter(Boolean)
              .join(' '),
          });
        }
      },
      onError: (error) => setMessage({ intent: 'error', content: errorMessage(error) }),
    });
  };

  const columns: TableColumnDefinition<AppProfile>[] = useMemo(
    () => [
      createTableColumn<AppProfile>({
        columnId: 'name',
        compare: (a, b) => byText.compare(a.name, b.name),
        renderHeaderCell: () => 'Name',
        renderCell: (p) => <TruncatedText text={p.name} lines={2} />,
      }),
      createTableColumn<AppProfile>({
        columnId: 'status',
        compare: (a, b) => byText.compare(statusLabel(a), statusLabel(b)),
        renderHeaderCell: () => 'Status',
        renderCell: (p) => <StatusCell profile={p} onReauthorize={() => setReauthorizing(p)} />,
      }),
      createTableColumn<AppProfile>({
        columnId: 'tenant',
        renderHeaderCell: () => 'Tenant',
        renderCell: (p) => (
          <div className={styles.status}>
            <TruncatedText text={p.tenantName ?? '—'} />
            <Caption1 className={mergeClasses(styles.muted, styles.fit)}>
              <TruncatedText text={p.tenantId} />
            </Caption1>
          </div>
        ),
      }),
      createTableColumn<AppProfile>({
        columnId: 'domain',
        renderHeaderCell: () => 'Domain',
        renderCell: (p) => <TruncatedText text={p.tenantDomain ?? '—'} />,
      }),
      createTableColumn<AppProfile>({
        columnId: 'cloud',
        compare: (a, b) => byText.compare(cloudLabel(a.cloud), cloudLabel(b.cloud)),
        renderHeaderCell: () => 'Cloud',
        renderCell: (p) => cloudLabel(p.cloud),
      }),
      createTableColumn<AppProfile>({
        columnId: 'authorizedBy',
        renderHeaderCell: () => 'Authorized by',
        renderCell: (p) => <TruncatedText text={p.authorizedBy ?? '—'} />,
      }),
      createTableColumn<AppProfile>({
        columnId: 'authorizedAt',
        renderHeaderCell: () => 'Authorized at',
        renderCell: (p) => <TruncatedText text={formatTime(p.authorizedAt)} />,
      }),
      createTableColumn<AppProfile>({
        columnId: 'lastCheckedAt',
        renderHeaderCell: () => 'Last checked',
        renderCell: (p) => <TruncatedText text={formatTime(p.lastCheckedAt)} />,
      }),
    ],
    [styles],
  );

  return (
    <>
      <PageHeader title="Partner app profiles" />
      <CommandBar
        label="App profile actions"
        onCommand={() => setMessage(null)}
        commands={[
          { id: 'create', label: 'Create', icon: <AddRegular />, onClick: () => setCreateOpen(true) },
          {
            id: 'rename',
            label: 'Edit profile name',
            icon: <EditRegular />,
            disabled: !single,
            onClick: () => setRenaming(single),
          },
          {
            id: 'reauthorize',
            label: 'Re-authorize app',
            icon: <KeyResetRegular />,
            disabled: !single,
            onClick: () => setReauthorizing(single),
          },
          {
            id: 'delete',
            label: 'Delete',
            icon: <DeleteRegular />,
            danger: true,
            disabled: selectedProfiles.length === 0,
            onClick: () => setDeleting(selectedProfiles),
          },
          {
            id: 'check',
            label: 'Check now',
            icon: <ArrowSyncRegular />,
            disabled: !single || check.isPending,
            onClick: onCheck,
          },
        ]}
      />
      {check.isPending ? <Loading /> : null}
      {message ? <Notice intent={message.intent}>{message.content}</Notice> : null}
      {profiles.isPending ? <Loading /> : null}
      <ErrorBar error={profiles.error} title="The app profiles could not be loaded" onRetry={() => void profiles.refetch()} />
      <ExpiredProfilesNote profiles={items} />
      {shownWork ? <ProfileAlerts profile={shownWork} /> : null}
      {profiles.isSuccess && items.length > 0 ? (
        <Text role="status" className={styles.muted}>
          {items.length === 1 ? '1 app profile' : `${items.length.toLocaleString('en-US')} app profiles`}
        </Text>
      ) : null}
      {profiles.isSuccess && items.length === 0 ? (
        <div className={styles.empty}>
          <Body1>
            An app profile for Microsoft 365 is required if you want to add Microsoft 365 users/groups as this
            system’s users and want to enable single sign-on. An app profile generates the Tenantgate - User
            Management app. This app connects this system to Microsoft 365.
          </Body1>
          <Body1>No app profile yet. Connect a tenant and sign in with a Global Administrator of that Microsoft 365 tenant.</Body1>
          <div>
            <Button appearance="primary" icon={<AddRegular />} onClick={() => setCreateOpen(true)}>
              Connect a Microsoft 365 tenant
            </Button>
          </div>
        </div>
      ) : null}
      {items.length > 0 ? (
        <SelectableGrid
          label="App profiles"
          items={items}
          columns={columns}
          getRowId={profileId}
          itemName={profileName}
          selection={selection}
          sort={{ state: sort, onChange: setSort }}
          columnSizes={{ list: 'app-profiles', columns: PROFILE_COLUMN_SIZES }}
        />
      ) : null}
      {shownWork ? (
        <BackgroundWorkSection profile={shownWork} />
      ) : items.length > 1 ? (
        <Caption1 className={mergeClasses(styles.muted, styles.hint)}>Select one app profile to see its background work.</Caption1>
      ) : null}

      <WaitingConsentLinks />

      <CreateProfileDialog open={createOpen} returnTo={returnTo} onClose={closeCreate} />
      <RenameProfileDialog
        profile={renaming}
        onClose={() => setRenaming(null)}
        onRenamed={(profile) => {
          setRenaming(null);
          selection.clear();
          setMessage({ intent: 'success', content: `The app profile is now named “${profile.name}”.` });
        }}
      />
      <ReauthorizeDialog
        profile={reauthorizing}
        returnTo={PAGE_PATH}
        onClose={() => {
          setReauthorizing(null);
          selection.clear();
        }}
      />
      <DeleteProfilesDialog profiles={deleting} onClose={() => setDeleting(null)} onDone={onDeleted} />
    </>
  );
}

/** What an expired profile still does and what waits for its re-authorization, said once above the list. */
function ExpiredProfilesNote({ profiles }: { profiles: AppProfile[] }) {
  const expired = profiles.filter((profile) => profile.status !== 'active');
  if (expired.length === 0) return null;
  const names = expired.map((profile) => `“${profile.name}”`).join(', ');
  return (
    <Notice intent="warning">
      <div role="note" aria-label="While an app profile is expired">
        <strong>While {names} {expired.length === 1 ? 'is' : 'are'} expired:</strong> Microsoft 365 users and group
        members added through {expired.length === 1 ? 'it' : 'them'} still sign in, as long as the tenant’s consent
        stands. Stopped until the app is re-authorized: user management (adding users and groups, changing them),
        Browse, and the directory sync of users and groups.
      </div>
    </Notice>
  );
}

function StatusCell({ profile, onReauthorize }: { profile: AppProfile; onReauthorize: () => void }) {
  const styles = useStyles();
  const lapses = profile.status === 'active' ? lapsesText(profile.lapsesAt) : null;
  return (
    <div className={styles.status}>
      {profile.status === 'active' ? (
        <Badge appearance="tint" color="success" className={styles.badge}>
          {statusLabel(profile)}
        </Badge>
      ) : (
        <Badge appearance="filled" color="danger" className={styles.badge}>
          {statusLabel(profile)}
        </Badge>
      )}
      {profile.status !== 'active' && profile.statusReason ? (
        <Caption1 title={profile.statusReason.fix}>
          {profile.statusReason.message} ({profile.statusReason.code})
        </Caption1>
      ) : null}
      {profile.status !== 'active' ? (
        <Button
          size="small"
          appearance="primary"
          // The row already names the profile: the visible label stays short and on one line; the accessible name keeps it.
          aria-label={`Re-authorize ${profile.name}`}
          className={styles.badge}
          onClick={(event) => {
            event.stopPropagation();
            onReauthorize();
          }}
        >
          Re-authorize
        </Button>
      ) : null}
      {profile.lastCheckError ? (
        <Caption1 className={styles.warning} title={profile.lastCheckError.message}>
          <WarningRegular aria-hidden />
          Last check failed at {formatTime(profile.lastCheckError.at)}
        </Caption1>
      ) : null}
      {lapses ? <Caption1 className={styles.muted}>{lapses}</Caption1> : null}
    </div>
  );
}
