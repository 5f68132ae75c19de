import { Badge, Caption1, Card, CardHeader, makeStyles, tokens } from '@fluentui/react-components';
import { AppsRegular, DocumentBulletListRegular, PeopleRegular } from '@fluentui/react-icons';
import type { ReactElement } from 'react';
import { AppLink } from '../components/AppLink';
import { NotificationSettingsCard } from '../components/NotificationSettingsCard';
import { PageHeader } from '../components/PageHeader';
import { ExpiredProfilesBanner, needsReauthorizationText, useExpiredProfiles } from '../components/ProfileHealth';
import { WebhooksCard } from '../components/WebhooksCard';

const useStyles = makeStyles({
  grid: {
    display: 'grid',
    gridTemplateColumns: 'repeat(auto-fill, minmax(280px, 1fr))',
    gap: tokens.spacingHorizontalL,
  },
  icon: { fontSize: '28px', color: tokens.colorBrandForeground1 },
  title: { fontWeight: tokens.fontWeightSemibold },
  header: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS, alignItems: 'center' },
});

interface Entry {
  to: string;
  name: string;
  description: string;
  icon: ReactElement;
  /** Something on that page needs the administrator now. */
  alert?: string;
}

export function SettingsPage() {
  const styles = useStyles();
  const expired = useExpiredProfiles();
  const entries: Entry[] = [
    {
      to: '/settings/app-profiles',
      name: 'Partner app profiles',
      description: 'Connect Microsoft 365 tenants and keep their app authorization alive.',
      icon: <AppsRegular className={styles.icon} />,
      alert: expired.length ? needsReauthorizationText(expired.length) : undefined,
    },
    {
      to: '/settings/users',
      name: 'User management',
      description: 'Add local users and Microsoft 365 users or groups, and choose their role.',
      icon: <PeopleRegular className={styles.icon} />,
    },
    {
      to: '/settings/audit',
      name: 'Audit log',
      description: 'See who did what, when, and with which outcome.',
      icon: <DocumentBulletListRegular className={styles.icon} />,
    },
  ];
  return (
    <>
      <PageHeader title="Settings" />
      <ExpiredProfilesBanner />
      <div className={styles.grid}>
        {entries.map((entry) => (
          <Card key={entry.to}>
            <CardHeader
              image={entry.icon}
              header={
                <span className={styles.header}>
                  <AppLink to={entry.to} className={styles.title}>
                    {entry.name}
                  </AppLink>
                  {entry.alert ? (
                    <Badge appearance="filled" color="danger">
                      {entry.alert}
                    </Badge>
                  ) : null}
                </span>
              }
              description={<Caption1>{entry.description}</Caption1>}
            />
          </Card>
        ))}
        <NotificationSettingsCard />
        <WebhooksCard />
      </div>
    </>
  );
}
