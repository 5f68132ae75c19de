import {
  Badge,
  Button,
  Card,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  Input,
  Select,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  makeStyles,
  mergeClasses,
  tokens,
} from '@fluentui/react-components';
import { ArrowDownloadRegular } from '@fluentui/react-icons';
import { useMemo, useState } from 'react';
import { AUDIT_ACTION_NAMES, auditActionName, explainAudit } from '../../server/audit/explain';
import { auditExportUrl, useAudit, type AuditFilters } from '../api/hooks';
import type { AuditEntry } from '../api/models';
import { ErrorBar, Loading } from '../components/Feedback';
import { PageHeader } from '../components/PageHeader';
import { useDebounced } from '../components/useDebounced';
import { TruncatedText } from '../components/TruncatedText';
import { useLastValue } from '../components/useLastValue';
import { NARROW, useMediaQuery } from '../components/useMediaQuery';
import { formatTimeExact } from '../format';

const useStyles = makeStyles({
  filters: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalM, alignItems: 'flex-end' },
  scroll: { overflowX: 'auto' },
  table: { minWidth: '1000px' },
  // The table lays columns out evenly: the time gets room for seconds and the zone; long addresses are cut to one
  // line (the whole text on hover and in Details).
  timeColumn: { width: '230px' },
  narrowColumn: { width: '110px' },
  clientColumn: { width: '160px' },
  // A phone: a card per entry, as the lists below 640 px.
  cards: { listStyle: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  cardTitle: { display: 'flex', justifyContent: 'space-between', gap: tokens.spacingHorizontalS, fontWeight: tokens.fontWeightSemibold },
  // The details' facts (below), tighter and quieter in a card.
  cardFacts: {
    columnGap: tokens.spacingHorizontalM,
    rowGap: tokens.spacingVerticalXXS,
    '& dt': { fontWeight: tokens.fontWeightRegular, color: tokens.colorNeutralForeground3 },
  },
  facts: {
    display: 'grid',
    gridTemplateColumns: 'max-content minmax(0, 1fr)',
    columnGap: tokens.spacingHorizontalL,
    rowGap: tokens.spacingVerticalS,
    margin: 0,
    '& dt': { fontWeight: tokens.fontWeightSemibold },
    '& dd': { margin: 0, overflowWrap: 'anywhere' },
  },
});

function target(entry: AuditEntry): string {
  const name = entry.targetName ?? entry.targetId;
  if (!entry.targetType && !name) return '—';
  return [entry.targetType?.replace(/_/g, ' '), name].filter(Boolean).join(': ');
}

/** A day picked in the browser's time zone, as the ISO moment it starts (`nextDay` for the day after it). */
function dayStart(day: string, nextDay = false): string {
  if (!day) return '';
  const [year, month, date] = day.split('-').map(Number);
  const start = new Date(year!, month! - 1, date! + (nextDay ? 1 : 0));
  return Number.isNaN(start.getTime()) ? '' : start.toISOString();
}

const ACTIONS = Object.entries(AUDIT_ACTION_NAMES).sort((a, b) => a[1].localeCompare(b[1]));

export function AuditPage() {
  const styles = useStyles();
  const [outcome, setOutcome] = useState('');
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const [fromDay, setFromDay] = useState('');
  const [toDay, setToDay] = useState('');
  const debouncedActor = useDebounced(actor.trim(), 300);
  const filters: AuditFilters = useMemo(
    () => ({ outcome, action, actor: debouncedActor, from: dayStart(fromDay), to: dayStart(toDay, true) }),
    [outcome, action, debouncedActor, fromDay, toDay],
  );
  const audit = useAudit(filters);
  const entries = audit.data?.pages.flatMap((page) => page.items) ?? [];
  const [shown, setShown] = useState<AuditEntry | null>(null);

  return (
    <>
      <PageHeader title="Audit log" />
      <div className={styles.filters}>
        <Field label="From">
          <Input type="date" value={fromDay} onChange={(_, d) => setFromDay(d.value)} />
        </Field>
        <Field label="To">
          <Input type="date" value={toDay} onChange={(_, d) => setToDay(d.value)} />
        </Field>
        <Field label="Actor">
          <Input value={actor} placeholder="Email address" onChange={(_, d) => setActor(d.value)} />
        </Field>
        <Field label="Action">
          <Select value={action} onChange={(_, d) => setAction(d.value)}>
            <option value="">All actions</option>
            {ACTIONS.map(([code, name]) => (
              <option key={code} value={code}>
                {name}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Outcome">
          <Select value={outcome} onChange={(_, d) => setOutcome(d.value)}>
            <option value="">All</option>
            <option value="success">Success</option>
            <option value="failure">Failure</option>
          </Select>
        </Field>
        <Button as="a" href={auditExportUrl(filters)} download icon={<ArrowDownloadRegular />}>
          Export CSV
        </Button>
      </div>
      <ErrorBar error={audit.error} title="The audit log could not be loaded" onRetry={() => void audit.refetch()} />
      {audit.isPending ? <Loading /> : null}
      {audit.isSuccess && entries.length === 0 ? <Text>No audit entries match.</Text> : null}
      {entries.length > 0 ? <AuditEntries entries={entries} onDetails={setShown} /> : null}
      {audit.hasNextPage ? (
        <Button onClick={() => audit.fetchNextPage()} disabled={audit.isFetchingNextPage}>
          Load more
        </Button>
      ) : null}
      <EntryDetails entry={shown} onClose={() => setShown(null)} />
    </>
  );
}

/** The button that opens an entry's details, named after the entry (the rows have many "Details"). */
function DetailsButton({ entry, onDetails }: { entry: AuditEntry; onDetails: (entry: AuditEntry) => void }) {
  return (
    <Button size="small" aria-label={`Details of ${auditActionName(entry.action)} at ${formatTimeExact(entry.at)}`} onClick={() => onDetails(entry)}>
      Details
    </Button>
  );
}

function OutcomeBadge({ entry }: { entry: AuditEntry }) {
  return (
    <Badge appearance="tint" color={entry.outcome === 'success' ? 'success' : 'danger'}>
      {entry.outcome === 'success' ? 'Success' : 'Failure'}
    </Badge>
  );
}

/** The entries: a table on wide screens, a card per entry on narrow ones (no sideways scrolling on a phone). */
function AuditEntries({ entries, onDetails }: { entries: AuditEntry[]; onDetails: (entry: AuditEntry) => void }) {
  const styles = useStyles();
  const narrow = useMediaQuery(NARROW);
  if (narrow) {
    return (
      <ul className={styles.cards} aria-label="Audit log">
        {entries.map((entry) => (
          <li key={entry.id}>
            <Card size="small">
              <div className={styles.cardTitle}>
                <span>{auditActionName(entry.action)}</span>
                <OutcomeBadge entry={entry} />
              </div>
              <dl className={mergeClasses(styles.facts, styles.cardFacts)}>
                <dt>Time</dt>
                <dd>{formatTimeExact(entry.at)}</dd>
                <dt>Actor</dt>
                <dd>{entry.actorEmail ?? '—'}</dd>
                <dt>Target</dt>
                <dd>{target(entry)}</dd>
                <dt>Client address</dt>
                <dd>{entry.clientAddress ?? '—'}</dd>
              </dl>
              <div>
                <DetailsButton entry={entry} onDetails={onDetails} />
              </div>
            </Card>
          </li>
        ))}
      </ul>
    );
  }
  return (
    <div className={styles.scroll} tabIndex={0} role="region" aria-label="Audit log table">
      <Table aria-label="Audit log" className={styles.table} size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell className={styles.timeColumn}>Time</TableHeaderCell>
            <TableHeaderCell>Actor</TableHeaderCell>
            <TableHeaderCell>Action</TableHeaderCell>
            <TableHeaderCell>Target</TableHeaderCell>
            <TableHeaderCell className={styles.narrowColumn}>Outcome</TableHeaderCell>
            <TableHeaderCell className={styles.clientColumn}>Client address</TableHeaderCell>
            <TableHeaderCell className={styles.narrowColumn}>Details</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {entries.map((entry) => (
            <TableRow key={entry.id}>
              <TableCell>{formatTimeExact(entry.at)}</TableCell>
              <TableCell>
                <TruncatedText text={entry.actorEmail ?? '—'} />
              </TableCell>
              <TableCell>{auditActionName(entry.action)}</TableCell>
              <TableCell>
                <TruncatedText text={target(entry)} />
              </TableCell>
              <TableCell>
                <OutcomeBadge entry={entry} />
              </TableCell>
              <TableCell>
                <TruncatedText text={entry.clientAddress ?? '—'} />
              </TableCell>
              <TableCell>
                <DetailsButton entry={entry} onDetails={onDetails} />
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </div>
  );
}

/** One entry in full: who, what, when (to the second, with the time zone), and for a failure its cause and fix. */
function EntryDetails({ entry, onClose }: { entry: AuditEntry | null; onClose: () => void }) {
  const styles = useStyles();
  const last = useLastValue(entry);
  const explanation = last ? explainAudit(last) : null;
  const facts = Object.entries(last?.details ?? {}).filter(([, value]) => value !== null && value !== undefined && value !== '');
  return (
    <Dialog open={entry !== null} onOpenChange={(_, d) => !d.open && onClose()}>
      <DialogSurface>
        {last ? (
          <DialogBody>
            <DialogTitle>{auditActionName(last.action)}</DialogTitle>
            <DialogContent>
              <dl className={styles.facts}>
                <dt>Time</dt>
                <dd>{formatTimeExact(last.at)}</dd>
                <dt>Actor</dt>
                <dd>{last.actorEmail ?? '—'}</dd>
                <dt>Action</dt>
                <dd>
                  {auditActionName(last.action)} ({last.action})
                </dd>
                <dt>Target</dt>
                <dd>{target(last)}</dd>
                <dt>Outcome</dt>
                <dd>{last.outcome === 'success' ? 'Success' : 'Failure'}</dd>
                {explanation ? (
                  <>
                    <dt>Cause</dt>
                    <dd>{explanation.cause}</dd>
                    {explanation.fix ? (
                      <>
                        <dt>Fix</dt>
                        <dd>{explanation.fix}</dd>
                      </>
                    ) : null}
                  </>
                ) : null}
                <dt>Client address</dt>
                <dd>{last.clientAddress ?? '—'}</dd>
                {facts.map(([key, value]) => (
                  <Fact key={key} name={key} value={value} />
                ))}
              </dl>
            </DialogContent>
            <DialogActions>
              <Button appearance="primary" onClick={onClose}>
                Close
              </Button>
            </DialogActions>
          </DialogBody>
        ) : null}
      </DialogSurface>
    </Dialog>
  );
}

/** A stored fact under a readable name ("microsoftAccount" → "Microsoft account"). */
function Fact({ name, value }: { name: string; value: unknown }) {
  const label = name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ').toLowerCase();
  return (
    <>
      <dt>{label.charAt(0).toUpperCase() + label.slice(1)}</dt>
      <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
    </>
  );
}
