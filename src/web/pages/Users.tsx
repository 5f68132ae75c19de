import {
  Badge,
  Button,
  Field,
  Input,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  ProgressBar,
  SearchBox,
  Select,
  Text,
  createTableColumn,
  makeStyles,
  tokens,
  type TableColumnDefinition,
  type TableColumnSizingOptions,
} from '@fluentui/react-components';
import { DeleteRegular, MailArrowUpRegular, PersonAddRegular, PersonSwapRegular, WarningFilled } from '@fluentui/react-icons';
import { useMemo, useState, type ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import { errorMessage } from '../api/client';
import { useAppProfiles, useDeleteUsers, useResendInvitation, useRestartDownload, useUsers, type UserListOptions } from '../api/hooks';
import type { AppProfile, RemoveUsersAnswer, User } from '../api/models';
import { AddUserDrawer } from '../components/AddUserDrawer';
import { ChangeRoleDialog } from '../components/ChangeRoleDialog';
import { CommandBar } from '../components/CommandBar';
import { useDangerStyles } from '../components/danger';
import { ErrorBar, Loading, Notice } from '../components/Feedback';
import { TruncatedText } from '../components/TruncatedText';
import { SelectableGrid, useSelection, type GridSort } from '../components/SelectableGrid';
import { useDebounced } from '../components/useDebounced';
import { useLastValue } from '../components/useLastValue';
import { formatTime, roleLabel, signInTypeLabel, userStatusLabel } from '../format';
import { PageHeader } from '../components/PageHeader';
import { ExpiredProfilesBanner, useExpiredProfiles } from '../components/ProfileHealth';

const useStyles = makeStyles({
  toolbar: { display: 'flex', gap: tokens.spacingHorizontalM, alignItems: 'center', flexWrap: 'wrap' },
  email: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center', minWidth: 0, maxWidth: '100%' },
  badge: { flexShrink: 0, whiteSpace: 'nowrap' },
  // A long profile name would size the filter past a phone's width: the box stays narrow, its options show all.
  filter: { maxWidth: '100%', width: '240px', '& select': { textOverflow: 'ellipsis' } },
  status: { display: 'flex', flexDirection: 'column', gap: '2px', width: '100%' },
  list: { margin: 0, paddingLeft: tokens.spacingHorizontalXL },
  expired: { color: tokens.colorPaletteRedForeground1, fontSize: '16px', flexShrink: 0 },
  total: { color: tokens.colorNeutralForeground2 },
});

const count = new Intl.NumberFormat('en-US');

/** "1,204 users and groups", as the admin centers count a list. */
function usersTotalText(total: number): string {
  return `${count.format(total)} ${total === 1 ? 'user or group' : 'users and groups'}`;
}

const userId = (user: User) => user.id;
const userName = (user: User) => user.email;
const removable = (user: User) => !user.isOwner;
/** The server sorts the list (every page in one order): the grid keeps the order it was given. */
const serverSorted = (_a: User, _b: User) => 0;

/**
 * Column widths (px, padding aside): the ideal ones fill a 1366 px window; the minimums (the table's narrowest,
 * about 960 px with the selection boxes) are where the table starts to scroll sideways instead.
 */
const USER_COLUMN_SIZES: TableColumnSizingOptions = {
  email: { minWidth: 180, idealWidth: 270 },
  name: { minWidth: 130, idealWidth: 200 },
  signInType: { minWidth: 130, idealWidth: 160 },
  role: { minWidth: 100, idealWidth: 110 },
  appProfile: { minWidth: 120, idealWidth: 170 },
  // A group's "2 members, downloaded <time>" on one line.
  status: { minWidth: 160, idealWidth: 268 },
};

export function UsersPage() {
  const styles = useStyles();
  const [params, setParams] = useSearchParams();
  const [role, setRole] = useState('');
  const [signInType, setSignInType] = useState('');
  const [status, setStatus] = useState('');
  const [sort, setSort] = useState<GridSort>({ sortColumn: 'email', sortDirection: 'ascending' });
  const [search, setSearch] = useState('');
  const debouncedSearch = useDebounced(search.trim(), 300);
  // "?appProfile=<id>" lists who blocks deleting that profile (the Delete dialog links here).
  const appProfileFilter = params.get('appProfile') ?? '';
  const users = useUsers({
    role,
    search: debouncedSearch,
    appProfileId: appProfileFilter,
    signInType,
    status,
    sort: sort.sortColumn as UserListOptions['sort'],
    order: sort.sortDirection === 'ascending' ? 'asc' : 'desc',
  });
  const total = users.data?.pages.at(-1)?.total;
  const profiles = useAppProfiles();
  const expiredProfiles = useExpiredProfiles();
  const [removing, setRemoving] = useState<User[] | null>(null);
  const [changingRole, setChangingRole] = useState<User | null>(null);
  const [message, setMessage] = useState<{ intent: 'success' | 'warning' | 'error'; content: ReactNode } | null>(
    null,
  );
  const drawerOpen = params.get('add') === '1';
  const resend = useResendInvitation();

  const items = useMemo(() => users.data?.pages.flatMap((page) => page.items) ?? [], [users.data]);
  const selection = useSelection(items, userId);
  const selectedUsers = selection.selectedItems;

  const invited = selectedUsers.length === 1 && selectedUsers[0]!.signInType === 'local' && selectedUsers[0]!.status === 'invited' ? selectedUsers[0]! : null;
  // A new activation link for an invited user: mailed, or shown here once (the old link stops working).
  const onResend = () => {
    if (!invited) return;
    selection.clear();
    resend.mutate(invited.id, {
      onSuccess: (answer) =>
        setMessage({
          intent: 'success',
          content: answer.activationUrl ? (
            <>
              <div>
                New activation link for {answer.email} (valid until {formatTime(answer.expiresAt)}). The old link no
                longer works. Pass it on to them:
              </div>
              <Field label={`Activation link for ${answer.email}`}>
                <Input readOnly value={answer.activationUrl} onFocus={(event) => event.target.select()} />
              </Field>
            </>
          ) : (
            `A new invitation was emailed to ${answer.email}. The old link no longer works.`
          ),
        }),
      onError: (error) => setMessage({ intent: 'error', content: errorMessage(error) }),
    });
  };

  const setAppProfileFilter = (id: string) => {
    const next = new URLSearchParams(params);
    if (id) next.set('appProfile', id);
    else next.delete('appProfile');
    setParams(next, { replace: true });
  };

  const openDrawer = (open: boolean) => {
    const next = new URLSearchParams(params);
    if (open) next.set('add', '1');
    else next.delete('add');
    setParams(next, { replace: !open });
  };

  const onRemoved = (answer: RemoveUsersAnswer, chosen: User[]) => {
    setRemoving(null);
    selection.clear();
    const removed = chosen.filter((user) => answer.deleted.includes(user.id)).map((user) => user.email);
    const lines: string[] = [];
    if (removed.length) lines.push(`Removed: ${removed.join(', ')}.`);
    for (const blocked of answer.blocked) {
      const email = blocked.email ?? chosen.find((user) => user.id === blocked.id)?.email ?? blocked.id;
      lines.push(blocked.message ?? `“${email}” cannot be removed.`);
    }
    setMessage({
      intent: answer.blocked.length ? (removed.length ? 'warning' : 'error') : 'success',
      content: (
        <>
          {lines.map((line) => (
            <div key={line}>{line}</div>
          ))}
        </>
      ),
    });
  };

  const columns: TableColumnDefinition<User>[] = useMemo(
    () => [
      createTableColumn<User>({
        columnId: 'email',
        compare: serverSorted,
        renderHeaderCell: () => 'Email',
        renderCell: (user) => (
          <span className={styles.email}>
            <ExpiredProfileIcon user={user} expired={expiredProfiles} className={styles.expired} />
            <TruncatedText text={user.email} />
            {user.isOwner ? (
              <Badge appearance="tint" color="brand" className={styles.badge}>
                Portal owner
              </Badge>
            ) : null}
          </span>
        ),
      }),
      createTableColumn<User>({
        columnId: 'name',
        compare: serverSorted,
        renderHeaderCell: () => 'Name',
        renderCell: (user) => <TruncatedText text={user.displayName ?? '—'} lines={2} />,
      }),
      createTableColumn<User>({
        columnId: 'signInType',
        compare: serverSorted,
        renderHeaderCell: () => 'Sign-in type',
        renderCell: (user) => signInTypeLabel(user),
      }),
      createTableColumn<User>({
        columnId: 'role',
        compare: serverSorted,
        renderHeaderCell: () => 'Role',
        renderCell: (user) => roleLabel(user.role),
      }),
      createTableColumn<User>({
        columnId: 'appProfile',
        renderHeaderCell: () => 'App profile',
        renderCell: (user) => <TruncatedText text={user.appProfileName ?? '—'} lines={2} />,
      }),
      createTableColumn<User>({
        columnId: 'status',
        compare: serverSorted,
        renderHeaderCell: () => 'Status',
        renderCell: (user) => (
          <div className={styles.status}>
            <span>{userStatusLabel(user.status)}</span>
            <GroupDownload user={user} onMessage={setMessage} />
          </div>
        ),
      }),
    ],
    [styles, expiredProfiles],
  );

  return (
    <>
      <PageHeader title="User management" />
      <ExpiredProfilesBanner />
      <CommandBar
        label="User actions"
        onCommand={() => setMessage(null)}
        commands={[
          { id: 'add', label: 'Add new user', icon: <PersonAddRegular />, onClick: () => openDrawer(true) },
          {
            id: 'role',
            label: 'Change role',
            icon: <PersonSwapRegular />,
            disabled: selectedUsers.length !== 1 || Boolean(selectedUsers[0]?.isOwner),
            onClick: () => setChangingRole(selectedUsers[0] ?? null),
          },
          {
            id: 'resend',
            label: 'Resend invitation',
            icon: <MailArrowUpRegular />,
            disabled: !invited || resend.isPending,
            onClick: onResend,
          },
          {
            id: 'remove',
            label: 'Remove',
            icon: <DeleteRegular />,
            danger: true,
            disabled: selectedUsers.length === 0,
            onClick: () => setRemoving(selectedUsers),
          },
        ]}
      />
      <div className={styles.toolbar}>
        <Select aria-label="Role filter" value={role} onChange={(_, d) => setRole(d.value)}>
          <option value="">All users</option>
          <option value="administrator">Administrators</option>
          <option value="member">Members</option>
        </Select>
        <Select
          aria-label="App profile filter"
          className={styles.filter}
          value={appProfileFilter}
          onChange={(_, d) => setAppProfileFilter(d.value)}
        >
          <option value="">All app profiles</option>
          {(profiles.data ?? []).map((profile) => (
            <option key={profile.id} value={profile.id}>
              {profile.name}
            </option>
          ))}
        </Select>
        <Select aria-label="Sign-in type filter" value={signInType} onChange={(_, d) => setSignInType(d.value)}>
          <option value="">All sign-in types</option>
          <option value="local">Local users</option>
          <option value="microsoft365">Microsoft 365 users and groups</option>
        </Select>
        <Select aria-label="Status filter" value={status} onChange={(_, d) => setStatus(d.value)}>
          <option value="">All statuses</option>
          <option value="active">Active</option>
          <option value="invited">Invited</option>
          <option value="disabled">Disabled</option>
        </Select>
        <SearchBox
          aria-label="Search by name or email"
          placeholder="Search by name or email"
          value={search}
          onChange={(_, d) => setSearch(d.value)}
        />
      </div>
      {message ? <Notice intent={message.intent}>{message.content}</Notice> : null}
      <ErrorBar error={users.error} title="The users could not be loaded" onRetry={() => void users.refetch()} />
      {users.isPending ? <Loading /> : null}
      {total !== undefined ? (
        <Text role="status" className={styles.total}>
          {usersTotalText(total)}
        </Text>
      ) : null}
      {users.isSuccess && items.length === 0 ? <Text>No users match.</Text> : null}
      {items.length > 0 ? (
        <SelectableGrid
          label="Users"
          items={items}
          columns={columns}
          getRowId={userId}
          itemName={userName}
          isSelectable={removable}
          selection={selection}
          sort={{ state: sort, onChange: setSort }}
          columnSizes={{ list: 'users', columns: USER_COLUMN_SIZES }}
          compact
        />
      ) : null}
      {users.hasNextPage ? (
        <Button onClick={() => users.fetchNextPage()} disabled={users.isFetchingNextPage}>
          Load more
        </Button>
      ) : null}

      <AddUserDrawer open={drawerOpen} onClose={() => openDrawer(false)} />
      <RemoveUsersDialog users={removing} onClose={() => setRemoving(null)} onDone={onRemoved} />
      <ChangeRoleDialog
        user={changingRole}
        onClose={() => setChangingRole(null)}
        onDone={(user) => {
          setChangingRole(null);
          selection.clear();
          setMessage({ intent: 'success', content: `${user.email} is now ${user.role === 'administrator' ? 'an Administrator' : 'a Member'}.` });
        }}
      />
    </>
  );
}

/**
 * A group's member download in words: preparing (nothing counted yet), "N of M members", a failure with Retry
 * (the API restarts it), or once done how many members it has and when they were last downloaded.
 */
function GroupDownload({
  user,
  onMessage,
}: {
  user: User;
  onMessage: (message: { intent: 'success' | 'warning' | 'error'; content: ReactNode }) => void;
}) {
  const retry = useRestartDownload();
  if (user.kind !== 'group') return null;
  if (user.syncError) {
    return (
      <>
        <Text size={200}>
          Member download failed at {formatTime(user.syncError.at)}: {user.syncError.message}
        </Text>
        <Button
          size="small"
          disabled={retry.isPending}
          onClick={(event) => {
            event.stopPropagation();
            retry.mutate(user.id, { onError: (error) => onMessage({ intent: 'error', content: errorMessage(error) }) });
          }}
        >
          Retry download of {user.email}
        </Button>
      </>
    );
  }
  if (user.progress) {
    const counted = user.progress.total > 0;
    return (
      <>
        <ProgressBar
          aria-label={`Member download for ${user.email}`}
          value={counted ? user.progress.done / user.progress.total : undefined}
          max={1}
        />
        <Text size={200}>
          {counted ? `Downloading members: ${user.progress.done} of ${user.progress.total}` : 'Preparing the member download…'}
        </Text>
      </>
    );
  }
  if (!user.lastSyncedAt) return null;
  return (
    <Text size={200}>
      {user.memberCount === null ? 'Members' : `${membersText(user.memberCount)},`} downloaded {formatTime(user.lastSyncedAt)}
    </Text>
  );
}

/** "1 member", "1,204 members". */
function membersText(members: number): string {
  return `${count.format(members)} ${members === 1 ? 'member' : 'members'}`;
}

/** A warning beside a user whose app profile expired: they cannot sign in or be managed until it is fixed. */
function ExpiredProfileIcon({ user, expired, className }: { user: User; expired: AppProfile[]; className: string }) {
  const profile = expired.find((candidate) => candidate.id === user.appProfileId);
  if (!profile) return null;
  const text = `App profile “${profile.name}” needs re-authorization: ${user.kind === 'group' ? 'its members cannot' : 'this user cannot'} sign in until it is fixed.`;
  return (
    <span title={text} className={className}>
      <WarningFilled aria-label={text} />
    </span>
  );
}

function RemoveUsersDialog({
  users,
  onClose,
  onDone,
}: {
  users: User[] | null;
  onClose: () => void;
  onDone: (answer: RemoveUsersAnswer, users: User[]) => void;
}) {
  const shown = useLastValue(users);
  return (
    <Dialog open={users !== null} onOpenChange={(_, d) => !d.open && onClose()}>
      <DialogSurface>{shown ? <RemoveConfirmation users={shown} onClose={onClose} onDone={onDone} /> : null}</DialogSurface>
    </Dialog>
  );
}

function RemoveConfirmation({
  users,
  onClose,
  onDone,
}: {
  users: User[];
  onClose: () => void;
  onDone: (answer: RemoveUsersAnswer, users: User[]) => void;
}) {
  const styles = useStyles();
  const danger = useDangerStyles();
  const remove = useDeleteUsers();
  return (
    <DialogBody>
      <DialogTitle>Remove users</DialogTitle>
      <DialogContent>
        <Text>These users will lose access to Tenantgate:</Text>
        <ul className={styles.list}>
          {users.map((user) => (
            <li key={user.id}>
              {user.kind === 'group'
                ? `${user.email}: every member of this Microsoft 365 group who was not added another way`
                : user.email}
            </li>
          ))}
        </ul>
        <ErrorBar error={remove.error} />
      </DialogContent>
      <DialogActions>
        <Button
          appearance="primary"
          className={danger.button}
          disabled={remove.isPending}
          onClick={() =>
            remove.mutate(
              users.map((user) => user.id),
              { onSuccess: (answer) => onDone(answer, users) },
            )
          }
        >
          Remove
        </Button>
        <Button onClick={onClose}>Cancel</Button>
      </DialogActions>
    </DialogBody>
  );
}
