import {
  Badge,
  Button,
  Field,
  Select,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useState } from 'react';
import { useAudit } from '../api/hooks';
import type { AuditEntry } from '../api/models';
import { ErrorBar, Loading } from '../components/Feedback';
import { formatTime } from '../format';
import { PageHeader } from '../components/PageHeader';

const useStyles = makeStyles({
  filters: { display: 'flex', gap: tokens.spacingHorizontalM, alignItems: 'flex-end' },
  scroll: { overflowX: 'auto' },
  table: { minWidth: '900px' },
});

function target(entry: AuditEntry): string {
  const name = entry.targetName ?? entry.targetId;
  if (!entry.targetType && !name) return '—';
  return [entry.targetType, name].filter(Boolean).join(': ');
}

export function AuditPage() {
  const styles = useStyles();
  const [outcome, setOutcome] = useState('');
  const audit = useAudit(outcome);
  const entries = audit.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <>
      <PageHeader title="Audit log" />
      <div className={styles.filters}>
        <Field label="Outcome">
          <Select value={outcome} onChange={(_, d) => setOutcome(d.value)}>
            <option value="">All</option>
            <option value="success">Success</option>
            <option value="failure">Failure</option>
          </Select>
        </Field>
      </div>
      <ErrorBar error={audit.error} title="The audit log could not be loaded" onRetry={() => void audit.refetch()} />
      {audit.isPending ? <Loading /> : null}
      {audit.isSuccess && entries.length === 0 ? <Text>No audit entries yet.</Text> : null}
      {entries.length > 0 ? (
        <div className={styles.scroll} tabIndex={0} role="region" aria-label="Audit log table">
          <Table aria-label="Audit log" className={styles.table} size="small">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Time</TableHeaderCell>
                <TableHeaderCell>Actor</TableHeaderCell>
                <TableHeaderCell>Action</TableHeaderCell>
                <TableHeaderCell>Target</TableHeaderCell>
                <TableHeaderCell>Outcome</TableHeaderCell>
                <TableHeaderCell>Client address</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {entries.map((entry) => (
                <TableRow key={entry.id}>
                  <TableCell>{formatTime(entry.at)}</TableCell>
                  <TableCell>{entry.actorEmail ?? '—'}</TableCell>
                  <TableCell>{entry.action}</TableCell>
                  <TableCell>{target(entry)}</TableCell>
                  <TableCell>
                    <Badge appearance="tint" color={entry.outcome === 'success' ? 'success' : 'danger'}>
                      {entry.outcome === 'success' ? 'Success' : 'Failure'}
                    </Badge>
                  </TableCell>
                  <TableCell>{entry.clientAddress ?? '—'}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      ) : null}
      {audit.hasNextPage ? (
        <Button onClick={() => audit.fetchNextPage()} disabled={audit.isFetchingNextPage}>
          Load more
        </Button>
      ) : null}
    </>
  );
}
