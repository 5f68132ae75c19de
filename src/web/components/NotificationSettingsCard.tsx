import { Caption1, Card, CardHeader, Switch, makeStyles, tokens } from '@fluentui/react-components';
import { AlertRegular } from '@fluentui/react-icons';
import { useNotificationSettings, useSaveNotificationSettings } from '../api/hooks';
import { ErrorBar } from './Feedback';

const useStyles = makeStyles({
  icon: { fontSize: '28px', color: tokens.colorBrandForeground1 },
  title: { fontWeight: tokens.fontWeightSemibold, margin: 0, fontSize: tokens.fontSizeBase300 },
  body: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS },
});

/** Settings > Alerts: the partner's channels, and whether this administrator gets alert emails. */
export function NotificationSettingsCard() {
  const styles = useStyles();
  const settings = useNotificationSettings();
  const save = useSaveNotificationSettings();
  const data = settings.data;
  const busy = !data || save.isPending;
  return (
    <Card>
      <CardHeader
        image={<AlertRegular className={styles.icon} />}
        header={<h2 className={styles.title}>Alerts</h2>}
        description={<Caption1>Be told when an app profile stops working or is about to, and when a consent link is used.</Caption1>}
      />
      <div className={styles.body}>
        <ErrorBar error={settings.error ?? save.error} />
        <Switch
          label="Show alerts in the portal (the bell)"
          checked={data?.channels.portal ?? true}
          disabled={busy}
          onChange={(_, d) => save.mutate({ channels: { portal: d.checked } })}
        />
        <Switch
          label="Email alerts to the administrators"
          checked={data?.channels.email ?? true}
          disabled={busy}
          onChange={(_, d) => save.mutate({ channels: { email: d.checked } })}
        />
        <Switch
          label="Send alert emails to me"
          checked={data ? !data.emailOptOut : true}
          disabled={busy || !data?.channels.email}
          onChange={(_, d) => save.mutate({ emailOptOut: !d.checked })}
        />
      </div>
    </Card>
  );
}
