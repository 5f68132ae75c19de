import {
  Badge,
  Body1,
  Button,
  Caption1,
  CounterBadge,
  DrawerBody,
  DrawerHeader,
  DrawerHeaderTitle,
  OverlayDrawer,
  Subtitle2,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { AlertRegular, DismissRegular } from '@fluentui/react-icons';
import { useState } from 'react';
import { useMarkNotificationsRead, useNotifications, useSession } from '../api/hooks';
import type { AppNotification } from '../api/models';
import { formatTime } from '../format';
import { AppLink } from './AppLink';
import { ErrorBar } from './Feedback';

const useStyles = makeStyles({
  bell: { color: tokens.colorNeutralForegroundOnBrand },
  iconBox: { position: 'relative', display: 'inline-flex' },
  count: { position: 'absolute', top: '-8px', right: '-10px' },
  list: { listStyleType: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  item: {
    display: 'flex',
    flexDirection: 'column',
    gap: tokens.spacingVerticalXS,
    padding: tokens.spacingVerticalM,
    borderRadius: tokens.borderRadiusMedium,
    border: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  unread: { borderLeft: `4px solid ${tokens.colorBrandStroke1}` },
  heading: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS, alignItems: 'center', margin: 0 },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalM, alignItems: 'center' },
  toolbar: { display: 'flex', justifyContent: 'flex-end', marginBottom: tokens.spacingVerticalM },
});

const severityBadge: Record<AppNotification['severity'], { text: string; color: 'danger' | 'warning' | 'informative' | 'success' }> = {
  error: { text: 'Access lost', color: 'danger' },
  warning: { text: 'Warning', color: 'warning' },
  info: { text: 'Info', color: 'informative' },
  resolved: { text: 'Resolved', color: 'success' },
};

/** "Notifications, 3 unread": the bell's accessible name says the count a sighted person reads from the badge. */
export const bellLabel = (unread: number) => (unread > 0 ? `Notifications, ${unread} unread` : 'Notifications, none unread');

function linkText(link: string): string {
  if (link.startsWith('/settings/app-profiles')) return 'Open app profiles';
  if (link.startsWith('/settings/users')) return 'Open user management';
  return 'Open';
}

function NotificationItem({ item, onNavigate, canOpen }: { item: AppNotification; onNavigate: () => void; canOpen: boolean }) {
  const styles = useStyles();
  const markRead = useMarkNotificationsRead();
  const badge = severityBadge[item.severity];
  return (
    <li className={`${styles.item} ${item.read ? '' : styles.unread}`}>
      <h3 className={styles.heading}>
        <Subtitle2>{item.title}</Subtitle2>
        <Badge appearance="tint" color={badge.color}>
          {badge.text}
        </Badge>
        {item.read ? null : (
          <Badge appearance="outline" color="brand">
            Unread
          </Badge>
        )}
      </h3>
      <Body1>{item.message}</Body1>
      {item.fix ? <Body1>How to fix: {item.fix}</Body1> : null}
      <Caption1>{formatTime(item.createdAt)}</Caption1>
      <div className={styles.actions}>
        {item.link && canOpen ? (
          <span onClickCapture={onNavigate}>
            <AppLink to={item.link}>{linkText(item.link)}</AppLink>
          </span>
        ) : null}
        {item.read ? null : (
          <Button size="small" onClick={() => markRead.mutate([item.id])} disabled={markRead.isPending} aria-label={`Mark “${item.title}” as read`}>
            Mark as read
          </Button>
        )}
      </div>
    </li>
  );
}

/** The bell in the top bar with the unread count; it opens the partner's notifications in a panel. */
export function NotificationsBell() {
  const styles = useStyles();
  const [open, setOpen] = useState(false);
  const notifications = useNotifications(true);
  // The affected pages are Settings pages: only Administrators get the links.
  const isAdministrator = useSession().data?.user.role === 'administrator';
  const markRead = useMarkNotificationsRead();
  const unread = notifications.data?.unread ?? 0;
  const items = notifications.data?.items ?? [];
  const unreadIds = items.filter((n) => !n.read).map((n) => n.id);
  return (
    <>
      <Button
        appearance="transparent"
        className={styles.bell}
        icon={
          <span className={styles.iconBox}>
            <AlertRegular />
            {unread > 0 ? <CounterBadge className={styles.count} count={unread} size="small" color="danger" aria-hidden /> : null}
          </span>
        }
        aria-label={bellLabel(unread)}
        title={bellLabel(unread)}
        onClick={() => setOpen(true)}
      />
      <OverlayDrawer position="end" size="medium" open={open} onOpenChange={(_, d) => setOpen(d.open)}>
        <DrawerHeader>
          <DrawerHeaderTitle action={<Button appearance="subtle" aria-label="Close" icon={<DismissRegular />} onClick={() => setOpen(false)} />}>
            Notifications
          </DrawerHeaderTitle>
        </DrawerHeader>
        <DrawerBody>
          <ErrorBar error={notifications.error ?? markRead.error} />
          {unreadIds.length > 1 ? (
            <div className={styles.toolbar}>
              <Button size="small" onClick={() => markRead.mutate(unreadIds)} disabled={markRead.isPending}>
                Mark all as read
              </Button>
            </div>
          ) : null}
          {items.length === 0 ? (
            <Body1>{notifications.isLoading ? 'Loading notifications…' : 'No notifications. You are told here when an app profile stops working or is about to.'}</Body1>
          ) : (
            <ul className={styles.list} aria-label="Notifications">
              {items.map((item) => (
                <NotificationItem key={item.id} item={item} onNavigate={() => setOpen(false)} canOpen={isAdministrator} />
              ))}
            </ul>
          )}
        </DrawerBody>
      </OverlayDrawer>
    </>
  );
}
