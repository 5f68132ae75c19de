import {
  Badge,
  Button,
  Caption1,
  Checkbox,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  SearchBox,
  Tab,
  TabList,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useState } from 'react';
import { useDirectory } from '../api/hooks';
import type { DirectoryEntry } from '../api/models';
import { ErrorBar, Loading } from './Feedback';
import { useDebounced } from './useDebounced';

const useStyles = makeStyles({
  content: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  list: {
    listStyle: 'none',
    margin: 0,
    padding: 0,
    maxHeight: '320px',
    overflowY: 'auto',
    border: `1px solid ${tokens.colorNeutralStroke2}`,
    borderRadius: tokens.borderRadiusMedium,
  },
  item: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalS, padding: '2px 8px' },
  muted: { color: tokens.colorNeutralForeground3 },
  added: { flexShrink: 0, marginLeft: 'auto' },
});

export function BrowseDialog({
  open,
  profileId,
  onClose,
  onAdd,
}: {
  open: boolean;
  profileId: string | null;
  onClose: () => void;
  onAdd: (emails: string[]) => void;
}) {
  return (
    <Dialog open={open} onOpenChange={(_, d) => !d.open && onClose()}>
      <DialogSurface>
        {profileId ? <BrowseContent profileId={profileId} onClose={onClose} onAdd={onAdd} /> : null}
      </DialogSurface>
    </Dialog>
  );
}

function BrowseContent({
  profileId,
  onClose,
  onAdd,
}: {
  profileId: string;
  onClose: () => void;
  onAdd: (emails: string[]) => void;
}) {
  const styles = useStyles();
  const [type, setType] = useState<'user' | 'group'>('user');
  const [search, setSearch] = useState('');
  const debouncedSearch = useDebounced(search.trim(), 300);
  const [chosen, setChosen] = useState<Map<string, DirectoryEntry>>(new Map());
  const directory = useDirectory(profileId, type, debouncedSearch);
  const entries = directory.data?.pages.flatMap((page) => page.items) ?? [];

  const toggle = (entry: DirectoryEntry, checked: boolean) => {
    setChosen((current) => {
      const next = new Map(current);
      if (checked) next.set(entry.id, entry);
      else next.delete(entry.id);
      return next;
    });
  };

  const onAddSelected = () => {
    const emails = [...chosen.values()].map((entry) => entry.email).filter((email): email is string => !!email);
    onAdd(emails);
  };

  return (
    <DialogBody>
      <DialogTitle>Browse Microsoft 365</DialogTitle>
      <DialogContent className={styles.content}>
        <TabList
          selectedValue={type}
          onTabSelect={(_, d) => setType(d.value as 'user' | 'group')}
          aria-label="Directory object type"
        >
          <Tab value="user">Users{counted(chosen, 'user')}</Tab>
          <Tab value="group">Groups{counted(chosen, 'group')}</Tab>
        </TabList>
        <SearchBox
          aria-label="Search directory"
          value={search}
          onChange={(_, d) => setSearch(d.value)}
        />
        <ErrorBar error={directory.error} />
        {directory.isPending ? <Loading /> : null}
        {directory.isSuccess && entries.length === 0 ? (
          <Caption1>{type === 'user' ? 'No users found.' : 'No groups found.'}</Caption1>
        ) : null}
        {entries.length > 0 ? (
          <ul className={styles.list} aria-label={type === 'user' ? 'Users' : 'Groups'}>
            {entries.map((entry) => (
              <li key={entry.id} className={styles.item}>
                <Checkbox
                  aria-label={`Select ${entry.displayName}`}
                  aria-describedby={entry.added ? `added-${entry.id}` : undefined}
                  checked={!entry.added && chosen.has(entry.id)}
                  disabled={!entry.email || entry.added}
                  onChange={(_, d) => toggle(entry, d.checked === true)}
                  label={
                    <span>
                      {entry.displayName}{' '}
                      <Caption1 className={styles.muted}>{entry.email ?? 'no email address'}</Caption1>
                    </span>
                  }
                />
                {entry.added ? (
                  <Badge id={`added-${entry.id}`} appearance="tint" color="informative" className={styles.added}>
                    Added
                  </Badge>
                ) : null}
              </li>
            ))}
          </ul>
        ) : null}
        {directory.hasNextPage ? (
          <Button onClick={() => directory.fetchNextPage()} disabled={directory.isFetchingNextPage}>
            Load more
          </Button>
        ) : null}
        <Caption1 aria-live="polite">{selectedText(chosen)}</Caption1>
      </DialogContent>
      <DialogActions>
        <Button appearance="primary" onClick={onAddSelected} disabled={chosen.size === 0}>
          Add selected
        </Button>
        <Button onClick={onClose}>Cancel</Button>
      </DialogActions>
    </DialogBody>
  );
}

const countOf = (chosen: Map<string, DirectoryEntry>, kind: DirectoryEntry['kind']) =>
  [...chosen.values()].filter((entry) => entry.kind === kind).length;

/** A tab's count of choices, so a choice on the other tab is never hidden. */
function counted(chosen: Map<string, DirectoryEntry>, kind: DirectoryEntry['kind']): string {
  const n = countOf(chosen, kind);
  return n ? ` (${n})` : '';
}

/** "2 users and 1 group selected": what Add selected adds, by tab. */
function selectedText(chosen: Map<string, DirectoryEntry>): string {
  const users = countOf(chosen, 'user');
  const groups = countOf(chosen, 'group');
  const parts = [
    users ? `${users} ${users === 1 ? 'user' : 'users'}` : '',
    groups ? `${groups} ${groups === 1 ? 'group' : 'groups'}` : '',
  ].filter(Boolean);
  return parts.length ? `${parts.join(' and ')} selected` : 'Nothing selected';
}
