import {
  Button,
  Caption1,
  Card,
  CardHeader,
  Field,
  Input,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  MessageBarTitle,
  Switch,
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
import { CopyRegular, DeleteRegular, PlugConnectedRegular, SendRegular } from '@fluentui/react-icons';
import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import { useCreateWebhook, useDeleteWebhook, useTestWebhook, useUpdateWebhook, useWebhookDeliveries, useWebhooks } from '../api/hooks';
import type { CreatedWebhook, Webhook, WebhookDelivery } from '../api/models';
import { formatTime } from '../format';
import { useDangerStyles } from './danger';
import { ErrorBar, Loading, Notice } from './Feedback';
import { TruncatedText } from './TruncatedText';

const useStyles = makeStyles({
  card: { gridColumn: '1 / -1' },
  icon: { fontSize: '28px', color: tokens.colorBrandForeground1 },
  title: { fontWeight: tokens.fontWeightSemibold, margin: 0, fontSize: tokens.fontSizeBase300 },
  body: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, minWidth: 0 },
  add: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS, alignItems: 'flex-end' },
  grow: { flexGrow: 1, minWidth: '200px' },
  secretRow: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS, alignItems: 'center', marginTop: tokens.spacingVerticalS },
  secret: { flexGrow: 1, minWidth: '180px', fontFamily: tokens.fontFamilyMonospace },
  hook: {
    display: 'flex',
    flexDirection: 'column',
    gap: tokens.spacingVerticalS,
    padding: tokens.spacingVerticalS,
    border: `1px solid ${tokens.colorNeutralStroke2}`,
    borderRadius: tokens.borderRadiusMedium,
    minWidth: 0,
  },
  hookHead: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS, alignItems: 'center', justifyContent: 'space-between', minWidth: 0 },
  url: { fontWeight: tokens.fontWeightSemibold, minWidth: 0, flexBasis: '240px', flexGrow: 1, overflowWrap: 'anywhere' },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS, alignItems: 'center' },
  tableWrap: { overflowX: 'auto' },
  list: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, margin: 0, padding: 0, listStyleType: 'none' },
});

/** The secret of a webhook just added, shown this once with a Copy button. */
function NewSecret({ created, onDone }: { created: CreatedWebhook; onDone: () => void }) {
  const styles = useStyles();
  const [copied, setCopied] = useState(false);
  const onCopy = async () => {
    await navigator.clipboard?.writeText(created.secret).catch(() => undefined);
    setCopied(true);
  };
  return (
    <MessageBar intent="success" layout="multiline">
      <MessageBarBody>
        <MessageBarTitle>Webhook added</MessageBarTitle>
        Copy its signing secret now: it is shown only this once. Check each request’s Tenantgate-Signature header with it.
        <div className={styles.secretRow}>
          <Input aria-label="Signing secret" className={styles.secret} value={created.secret} readOnly onFocus={(event) => event.currentTarget.select()} />
          <Button icon={<CopyRegular />} onClick={onCopy}>
            {copied ? 'Copied' : 'Copy'}
          </Button>
        </div>
      </MessageBarBody>
      <MessageBarActions>
        <Button onClick={onDone}>Done</Button>
      </MessageBarActions>
    </MessageBar>
  );
}

const outcome = (d: Pick<WebhookDelivery, 'statusCode' | 'error'>) => (d.error === null ? `Delivered (${d.statusCode})` : d.statusCode !== null ? `Failed (${d.statusCode})` : 'Failed (no answer)');

function Deliveries({ webhook }: { webhook: Webhook }) {
  const styles = useStyles();
  const deliveries = useWebhookDeliveries(webhook.id);
  if (deliveries.isPending) return <Loading />;
  if (deliveries.error) return <ErrorBar error={deliveries.error} onRetry={() => void deliveries.refetch()} />;
  const rows = deliveries.data.deliveries;
  if (rows.length === 0) return <Caption1>No deliveries yet.</Caption1>;
  return (
    <div className={styles.tableWrap}>
      <Table size="small" aria-label={`Recent deliveries to ${webhook.url}`}>
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Time</TableHeaderCell>
            <TableHeaderCell>Event</TableHeaderCell>
            <TableHeaderCell>Attempt</TableHeaderCell>
            <TableHeaderCell>Result</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {rows.map((d) => (
            <TableRow key={d.id}>
              <TableCell>{formatTime(d.at)}</TableCell>
              <TableCell>{d.eventType}</TableCell>
              <TableCell>{d.attempt}</TableCell>
              <TableCell>
                <span title={d.error ?? undefined}>{outcome(d)}</span>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </div>
  );
}

function WebhookItem({ webhook }: { webhook: Webhook }) {
  const styles = useStyles();
  const danger = useDangerStyles();
  const update = useUpdateWebhook();
  const remove = useDeleteWebhook();
  const test = useTestWebhook();
  const [confirming, setConfirming] = useState(false);
  const result = test.data;
  return (
    <li className={styles.hook}>
      <div className={styles.hookHead}>
        <Text className={styles.url}>
          <TruncatedText text={webhook.url} lines={2} />
        </Text>
        <div className={styles.actions}>
          <Switch
            label="Enabled"
            checked={webhook.enabled}
            disabled={update.isPending}
            aria-label={`Enabled: ${webhook.url}`}
            onChange={(_, d) => update.mutate({ id: webhook.id, enabled: d.checked })}
          />
          <Button icon={<SendRegular />} disabled={test.isPending} onClick={() => test.mutate(webhook.id)} aria-label={`Send test event to ${webhook.url}`}>
            {test.isPending ? 'Sending…' : 'Send test event'}
          </Button>
          {confirming ? (
            <>
              <Button className={danger.button} disabled={remove.isPending} onClick={() => remove.mutate(webhook.id)} aria-label={`Confirm delete ${webhook.url}`}>
                Delete webhook
              </Button>
              <Button onClick={() => setConfirming(false)}>Cancel</Button>
            </>
          ) : (
            <Button icon={<DeleteRegular />} className={danger.command} appearance="subtle" onClick={() => setConfirming(true)} aria-label={`Delete ${webhook.url}`}>
              Delete
            </Button>
          )}
        </div>
      </div>
      <ErrorBar error={update.error ?? remove.error ?? test.error} />
      {result ? (
        <Notice intent={result.delivered ? 'success' : 'warning'}>
          {result.delivered ? `Test event delivered (${result.statusCode}).` : `Test event not delivered: ${result.error ?? 'no answer'}`}
        </Notice>
      ) : null}
      <Caption1>Recent deliveries</Caption1>
      <Deliveries webhook={webhook} />
    </li>
  );
}

/** Settings > Alerts, webhooks: add an endpoint (its secret shown once), turn it on or off, test it, read its deliveries. */
export function WebhooksCard() {
  const styles = useStyles();
  const webhooks = useWebhooks();
  const create = useCreateWebhook();
  const [url, setUrl] = useState('');
  const [created, setCreated] = useState<CreatedWebhook | null>(null);
  const urlProblem = create.error instanceof ApiError && create.error.field === 'url' ? create.error.message : undefined;

  const onAdd = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(url.trim(), {
      onSuccess: (answer) => {
        setCreated(answer);
        setUrl('');
      },
    });
  };

  return (
    <Card className={styles.card}>
      <CardHeader
        image={<PlugConnectedRegular className={styles.icon} />}
        header={<h2 className={styles.title}>Webhooks</h2>}
        description={<Caption1>Alerts sent as signed JSON to your own endpoint, retried for 24 hours until it answers 2xx.</Caption1>}
      />
      <div className={styles.body}>
        <form className={styles.add} onSubmit={onAdd}>
          <Field label="Endpoint URL" className={styles.grow} validationMessage={urlProblem} validationState={urlProblem ? 'error' : 'none'}>
            <Input type="url" value={url} placeholder="https://example.com/tenantgate" onChange={(_, d) => setUrl(d.value)} required />
          </Field>
          <Button type="submit" appearance="primary" disabled={create.isPending || url.trim() === ''}>
            Add webhook
          </Button>
        </form>
        {urlProblem ? null : <ErrorBar error={create.error} />}
        {created ? <NewSecret created={created} onDone={() => setCreated(null)} /> : null}
        {webhooks.isPending ? <Loading /> : null}
        <ErrorBar error={webhooks.error} onRetry={() => void webhooks.refetch()} />
        {webhooks.data?.webhooks.length === 0 ? <Caption1>No webhooks yet.</Caption1> : null}
        {webhooks.data && webhooks.data.webhooks.length > 0 ? (
          <ul className={styles.list} aria-label="Webhooks">
            {webhooks.data.webhooks.map((w) => (
              <WebhookItem key={w.id} webhook={w} />
            ))}
          </ul>
        ) : null}
      </div>
    </Card>
  );
}
