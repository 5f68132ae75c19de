import { MessageBar, MessageBarBody, MessageBarTitle, makeStyles, tokens } from '@fluentui/react-components';
import { useOpenAlerts } from '../api/hooks';
import type { AppNotification, AppProfile } from '../api/models';
import { formatTime } from '../format';

const useStyles = makeStyles({
  list: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  text: { overflowWrap: 'anywhere' },
});

const intentOf = (alert: AppNotification) => (alert.severity === 'error' ? 'error' : alert.severity === 'warning' ? 'warning' : 'info');

/**
 * The banner of a profile's open alerts (issue 10, section 2): each condition not resolved yet (lapse warning,
 * permission drift, checks or directory sync failing, a failed group download, expired) with its cause and fix,
 * from the same notifications the bell lists. It disappears when the condition clears.
 */
export function ProfileAlerts({ profile }: { profile: AppProfile }) {
  const styles = useStyles();
  const alerts = useOpenAlerts(profile.id);
  const items = alerts.data?.items ?? [];
  if (items.length === 0) return null;
  return (
    <section aria-label={`Open alerts for ${profile.name}`} className={styles.list}>
      {items.map((alert) => (
        <MessageBar key={alert.id} intent={intentOf(alert)} layout="multiline">
          <MessageBarBody className={styles.text}>
            <MessageBarTitle>{alert.title}</MessageBarTitle>
            {alert.message}
            {alert.fix ? (
              <div>
                <strong>How to fix:</strong> {alert.fix}
              </div>
            ) : null}
            <div>Since {formatTime(alert.createdAt)}</div>
          </MessageBarBody>
        </MessageBar>
      ))}
    </section>
  );
}
