import {
  Badge,
  Button,
  DataGrid,
  DataGridBody,
  DataGridCell,
  DataGridHeader,
  DataGridHeaderCell,
  DataGridRow,
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
  Title2,
  Toolbar,
  ToolbarButton,
  createTableColumn,
  makeStyles,
  tokens,
  type TableColumnDefinition,
  type TableRowId,
} from '@fluentui/react-components';
import { DeleteRegular, PersonAddRegular, PersonSwapRegular } from '@fluentui/react-icons';
import { useMemo, useState, type ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import { useDeleteUsers, useUsers } from '../api/hooks';
import type { RemoveUsersAnswer, User } from '../api/models';
import { AddUserDrawer } from '../components/AddUserDrawer';
import { ChangeRoleDialog } from '../components/ChangeRoleDialog';
import { ErrorBar, Loading, Notice } from '../components/Feedback';
import { useDebounced } from '../components/useDebounced';
import { roleLabel, signInTypeLabel, userStatusLabel } from '../format';

const useStyles = makeStyles({
  toolbar: { display: 'flex', gap: tokens.spacingHorizontalM, alignItems: 'center', flexWrap: 'wrap' },
  email: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center', flexWrap: 'wrap' },
  status: { display: 'flex', flexDirection: 'column', gap: '2px', width: '100%' },
  list: { margin: 0, paddingLeft: tokens.spacingHorizontalXL },
  scroll: { overflowX: 'auto' },
  grid: { minWidth: '960px' },
});

export function UsersPage() {
  const styles = useStyles();
  const [params, setParams] = useSearchParams();
  const [role, setRole] = useState('');
  const [search, setSearch] = useState('');
  const debouncedSearch = useDebounced(search.trim(), 300);
  const users = useUsers(role, debouncedSearch);
  const [selected, setSelected] = useState<Set<TableRowId>>(new Set());
  const [removing, setRemoving] = useState<User[] | null>(null);
  const [changingRole, setChangingRole] = useState<User | null>(null);
  const [message, setMessage] = useState<{ intent: 'success' | 'warning' | 'error'; content: ReactNode } | null>(
    null,
  );
  const drawerOpen = params.get('add') === '1';

  const items = useMemo(() => users.data?.pages.flatMap((page) => page.items) ?? [], [users.data]);
  const selectedUsers = items.filter((user) => selected.has(user.id));

  const openDrawer = (open: boolean) => {
    const next = new URLSearchParams(params);
    if (open) next.set('add', '1');
    else next.delete('add');
    setParams(next, { replace: !open });
  };

  const onSelectionChange = (chosen: Set<TableRowId>) => {
    const selectable = items.filter((user) => !user.isOwner).map((user) => user.id);
    const next = new Set([...chosen].filter((id) => selectable.includes(String(id))));
    const headerToggledAll = chosen.size === items.length && items.length > 0;
    const hadAll = selectable.length > 0 && selectable.every((id) => selected.has(id));
    setSelected(headerToggledAll && hadAll ? new Set() : next);
  };

  const onRemoved = (answer: RemoveUsersAnswer, chosen: User[]) => {
    setRemoving(null);
    setSelected(new Set());
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
        renderHeaderCell: () => 'Email',
        renderCell: (user) => (
          <span className={styles.email}>
            {user.email}
            {user.isOwner ? (
              <Badge appearance="tint" color="brand">
                Tenant owner
              </Badge>
            ) : null}
          </span>
        ),
      }),
      createTableColumn<User>({
        columnId: 'name',
        renderHeaderCell: () => 'Name',
        renderCell: (user) => user.displayName ?? '—',
      }),
      createTableColumn<User>({
        columnId: 'signInType',
        renderHeaderCell: () => 'Sign-in type',
        renderCell: (user) => signInTypeLabel(user),
      }),
      createTableColumn<User>({
        columnId: 'role',
        renderHeaderCell: () => 'Role',
        renderCell: (user) => roleLabel(user.role),
      }),
      createTableColumn<User>({
        columnId: 'appProfile',
        renderHeaderCell: () => 'App profile',
        renderCell: (user) => user.appProfileName ?? '—',
      }),
      createTableColumn<User>({
        columnId: 'status',
        renderHeaderCell: () => 'Status',
        renderCell: (user) => (
          <div className={styles.status}>
            <span>{userStatusLabel(user.status)}</span>
            {user.progress ? (
              <>
                <ProgressBar
                  aria-label={`Sync progress for ${user.email}`}
                  value={user.progress.total > 0 ? user.progress.done / user.progress.total : undefined}
                  max={1}
                />
                <Text size={200}>
                  Syncing {user.progress.done} of {user.progress.total}
                </Text>
              </>
            ) : null}
          </div>
        ),
      }),
    ],
    [styles],
  );

  return (
    <>
      <Title2 as="h1">User management</Title2>
      <div className={styles.toolbar}>
        <Select aria-label="Role filter" value={role} onChange={(_, d) => setRole(d.value)}>
          <option value="">All users</option>
          <option value="administrator">Administrators</option>
          <option value="member">Members</option>
        </Select>
        <SearchBox
          aria-label="Search by email"
          value={search}
          onChange={(_, d) => setSearch(d.value)}
        />
        <Toolbar aria-label="User actions">
          <ToolbarButton icon={<PersonAddRegular />} onClick={() => openDrawer(true)}>
            Add new user
          </ToolbarButton>
          <ToolbarButton
            icon={<PersonSwapRegular />}
            disabled={selectedUsers.length !== 1 || Boolean(selectedUsers[0]?.isOwner)}
            onClick={() => setChangingRole(selectedUsers[0] ?? null)}
          >
            Change role
          </ToolbarButton>
          <ToolbarButton
            icon={<DeleteRegular />}
            disabled={selectedUsers.length === 0}
            onClick={() => setRemoving(selectedUsers)}
          >
            Remove
          </ToolbarButton>
        </Toolbar>
      </div>
      {message ? <Notice intent={message.intent}>{message.content}</Notice> : null}
      <ErrorBar error={users.error} />
      {users.isPending ? <Loading /> : null}
      {users.isSuccess && items.length === 0 ? <Text>No users match.</Text> : null}
      {items.length > 0 ? (
        <div className={styles.scroll}>
          <DataGrid
            className={styles.grid}
            items={items}
            columns={columns}
            getRowId={(user: User) => user.id}
            selectionMode="multiselect"
            selectedItems={selected}
            onSelectionChange={(_, data) => onSelectionChange(data.selectedItems)}
            aria-label="Users"
          >
            <DataGridHeader>
              <DataGridRow selectionCell={{ checkboxIndicator: { 'aria-label': 'Select all users' } }}>
                {({ renderHeaderCell }) => <DataGridHeaderCell>{renderHeaderCell()}</DataGridHeaderCell>}
              </DataGridRow>
            </DataGridHeader>
            <DataGridBody<User>>
              {({ item, rowId }) => (
                <DataGridRow<User>
                  key={rowId}
                  selectionCell={{
                    checkboxIndicator: { 'aria-label': `Select ${item.email}`, disabled: Boolean(item.isOwner) },
                  }}
                >
                  {({ renderCell }) => <DataGridCell>{renderCell(item)}</DataGridCell>}
                </DataGridRow>
              )}
            </DataGridBody>
          </DataGrid>
        </div>
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
          setMessage({ intent: 'success', content: `${user.email} is now ${user.role === 'administrator' ? 'an Administrator' : 'a Member'}.` });
        }}
      />
    </>
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
  return (
    <Dialog open={users !== null} onOpenChange={(_, d) => !d.open && onClose()}>
      <DialogSurface>{users ? <RemoveConfirmation users={users} onClose={onClose} onDone={onDone} /> : null}</DialogSurface>
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
  const remove = useDeleteUsers();
  return (
    <DialogBody>
      <DialogTitle>Remove users</DialogTitle>
      <DialogContent>
        <Text>These users will lose access to Tenantgate:</Text>
        <ul className={styles.list}>
          {users.map((user) => (
            <li key={user.id}>{user.email}</li>
          ))}
        </ul>
        <ErrorBar error={remove.error} />
      </DialogContent>
      <DialogActions>
        <Button
          appearance="primary"
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
