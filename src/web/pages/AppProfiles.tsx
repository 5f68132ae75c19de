import {
  Badge,
  Body1,
  Button,
  Caption1,
  DataGrid,
  DataGridBody,
  DataGridCell,
  DataGridHeader,
  DataGridHeaderCell,
  DataGridRow,
  Title2,
  Toolbar,
  ToolbarButton,
  createTableColumn,
  makeStyles,
  tokens,
  type TableColumnDefinition,
  type TableRowId,
} from '@fluentui/react-components';
import {
  AddRegular,
  ArrowSyncRegular,
  DeleteRegular,
  EditRegular,
  KeyResetRegular,
  WarningRegular,
} from '@fluentui/react-icons';
import { useMemo, useState, type ReactNode } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { errorMessage } from '../api/client';
import { useAppProfiles, useCheckAppProfile } from '../api/hooks';
import type { AppProfile, DeleteProfilesAnswer } from '../api/models';
import {
  CreateProfileDialog,
  DeleteProfilesDialog,
  ReauthorizeDialog,
  RenameProfileDialog,
} from '../components/AppProfileDialogs';
import { ErrorBar, Loading, Notice } from '../components/Feedback';
import { blockedProfileMessage, cloudLabel, formatTime, lapsesText, statusLabel } from '../format';
import { safeNextPath } from '../outcomes';

const PAGE_PATH = '/settings/app-profiles';

const useStyles = makeStyles({
  status: { display: 'flex', flexDirection: 'column', alignItems: 'flex-start', gap: tokens.spacingVerticalXXS },
  warning: { color: tokens.colorPaletteDarkOrangeForeground1, display: 'flex', gap: '4px', alignItems: 'center' },
  muted: { color: tokens.colorNeutralForeground3 },
  empty: { maxWidth: '760px', display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  grid: { minWidth: '1200px' },
  wide: { flexGrow: 2 },
  badge: { whiteSpace: 'nowrap' },
  scroll: { overflowX: 'auto' },
});

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
  const [selected, setSelected] = useState<Set<TableRowId>>(new Set());
  const [createOpen, setCreateOpen] = useState(() => params.get('create') === '1');
  const [renaming, setRenaming] = useState<AppProfile | null>(null);
  const [reauthorizing, setReauthorizing] = useState<AppProfile | null>(null);
  const [deleting, setDeleting] = useState<AppProfile[] | null>(null);
  const [message, setMessage] = useState<Message | null>(null);

  const returnToParam = params.get('returnTo');
  const returnTo = returnToParam ? safeNextPath(returnToParam) : PAGE_PATH;

  const items = useMemo(() => profiles.data ?? [], [profiles.data]);
  const selectedProfiles = items.filter((profile) => selected.has(profile.id));
  const single = selectedProfiles.length === 1 ? selectedProfiles[0] : null;

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
    setSelected(new Set());
    const names = chosen.filter((profile) => answer.deleted.includes(profile.id)).map((profile) => profile.name);
    const lines: string[] = [];
    if (names.length) lines.push(`Deleted: ${names.join(', ')}.`);
    for (const blocked of answer.blocked) {
      const name = blocked.name ?? chosen.find((profile) => profile.id === blocked.id)?.name;
      lines.push(blockedProfileMessage({ ...blocked, name }));
    }
    setMessage({
      intent: answer.blocked.length ? (names.length ? 'warning' : 'error') : 'success',
      content: (
        <>
          {lines.map((line) => (
            <div key={line}>{line}</div>
          ))}
        </>
      ),
    });
  };

  const onCheck = () => {
    if (!single) return;
    setMessage(null);
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
        renderHeaderCell: () => 'Name',
        renderCell: (p) => p.name,
      }),
      createTableColumn<AppProfile>({
        columnId: 'status',
        renderHeaderCell: () => 'Status',
        renderCell: (p) => <StatusCell profile={p} onReauthorize={() => setReauthorizing(p)} />,
      }),
      createTableColumn<AppProfile>({
        columnId: 'tenant',
        renderHeaderCell: () => 'Tenant',
        renderCell: (p) => (
          <div className={styles.status}>
            <span>{p.tenantName ?? '—'}</span>
            <Caption1 className={styles.muted}>{p.tenantId}</Caption1>
          </div>
        ),
      }),
      createTableColumn<AppProfile>({
        columnId: 'domain',
        renderHeaderCell: () => 'Domain',
        renderCell: (p) => p.tenantDomain ?? '—',
      }),
      createTableColumn<AppProfile>({
        columnId: 'cloud',
        renderHeaderCell: () => 'Cloud',
        renderCell: (p) => cloudLabel(p.cloud),
      }),
      createTableColumn<AppProfile>({
        columnId: 'authorizedBy',
        renderHeaderCell: () => 'Authorized by',
        renderCell: (p) => p.authorizedBy ?? '—',
      }),
      createTableColumn<AppProfile>({
        columnId: 'authorizedAt',
        renderHeaderCell: () => 'Authorized at',
        renderCell: (p) => formatTime(p.authorizedAt),
      }),
      createTableColumn<AppProfile>({
        columnId: 'lastCheckedAt',
        renderHeaderCell: () => 'Last checked',
        renderCell: (p) => formatTime(p.lastCheckedAt),
      }),
    ],
    [styles],
  );

  return (
    <>
      <Title2 as="h1">Partner app profile</Title2>
      <Toolbar aria-label="App profile actions">
        <ToolbarButton icon={<AddRegular />} onClick={() => setCreateOpen(true)}>
          Create
        </ToolbarButton>
        <ToolbarButton icon={<EditRegular />} disabled={!single} onClick={() => setRenaming(single)}>
          Edit profile name
        </ToolbarButton>
        <ToolbarButton icon={<KeyResetRegular />} disabled={!single} onClick={() => setReauthorizing(single)}>
          Re-authorize app
        </ToolbarButton>
        <ToolbarButton
          icon={<DeleteRegular />}
          disabled={selectedProfiles.length === 0}
          onClick={() => setDeleting(selectedProfiles)}
        >
          Delete
        </ToolbarButton>
        <ToolbarButton icon={<ArrowSyncRegular />} disabled={!single || check.isPending} onClick={onCheck}>
          Check now
        </ToolbarButton>
      </Toolbar>
      {check.isPending ? <Loading /> : null}
      {message ? <Notice intent={message.intent}>{message.content}</Notice> : null}
      {profiles.isPending ? <Loading /> : null}
      <ErrorBar error={profiles.error} />
      {profiles.isSuccess && items.length === 0 ? (
        <div className={styles.empty}>
          <Body1>
            An app profile for Microsoft 365 is required if you want to add Microsoft 365 users/groups as this
            system’s users and want to enable single sign-on. An app profile generates the Tenantgate - User
            Management app. This app connects this system to Microsoft 365.
          </Body1>
          <Body1>No app profile yet. Click Create and sign in with a Microsoft 365 Global Administrator.</Body1>
        </div>
      ) : null}
      {items.length > 0 ? (
        <div className={styles.scroll}>
          <DataGrid
            className={styles.grid}
            items={items}
            columns={columns}
            getRowId={(p: AppProfile) => p.id}
            selectionMode="multiselect"
            selectedItems={selected}
            onSelectionChange={(_, data) => setSelected(new Set(data.selectedItems))}
            aria-label="App profiles"
          >
            <DataGridHeader>
              <DataGridRow selectionCell={{ checkboxIndicator: { 'aria-label': 'Select all app profiles' } }}>
                {({ renderHeaderCell, columnId }) => (
                  <DataGridHeaderCell className={columnId === 'status' ? styles.wide : undefined}>
                    {renderHeaderCell()}
                  </DataGridHeaderCell>
                )}
              </DataGridRow>
            </DataGridHeader>
            <DataGridBody<AppProfile>>
              {({ item, rowId }) => (
                <DataGridRow<AppProfile>
                  key={rowId}
                  selectionCell={{ checkboxIndicator: { 'aria-label': `Select ${item.name}` } }}
                >
                  {({ renderCell, columnId }) => (
                    <DataGridCell className={columnId === 'status' ? styles.wide : undefined}>
                      {renderCell(item)}
                    </DataGridCell>
                  )}
                </DataGridRow>
              )}
            </DataGridBody>
          </DataGrid>
        </div>
      ) : null}

      <CreateProfileDialog open={createOpen} returnTo={returnTo} onClose={closeCreate} />
      <RenameProfileDialog profile={renaming} onClose={() => setRenaming(null)} />
      <ReauthorizeDialog profile={reauthorizing} returnTo={PAGE_PATH} onClose={() => setReauthorizing(null)} />
      <DeleteProfilesDialog profiles={deleting} onClose={() => setDeleting(null)} onDone={onDeleted} />
    </>
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
        <Caption1 title={profile.statusReason.fix}>{profile.statusReason.message}</Caption1>
      ) : null}
      {profile.status !== 'active' ? (
        <Button
          size="small"
          appearance="primary"
          onClick={(event) => {
            event.stopPropagation();
            onReauthorize();
          }}
        >
          Re-authorize {profile.name}
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
