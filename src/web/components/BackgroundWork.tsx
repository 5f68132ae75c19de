import { Badge, Body1, Button, Caption1, Subtitle2, makeStyles, tokens, type BadgeProps } from '@fluentui/react-components';
import { ArrowClockwiseRegular } from '@fluentui/react-icons';
import type { ReactNode } from 'react';
import { useBackgroundWork, useRetryBackgroundJob, useSyncNow } from '../api/hooks';
import type { AppProfile, BackgroundWork, DownloadWork } from '../api/models';
import { formatTime, formatTimeExact } from '../format';
import { ErrorBar, Loading } from './Feedback';
import { TruncatedText } from './TruncatedText';

const useStyles = makeStyles({
  section: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, marginTop: tokens.spacingVerticalL, minWidth: 0 },
  list: { listStyle: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  item: {
    display: 'grid',
    gridTemplateColumns: 'minmax(0, 15rem) 9rem minmax(0, 1fr) auto',
    alignItems: 'center',
    columnGap: tokens.spacingHorizontalM,
    rowGap: tokens.spacingVerticalXS,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`,
    border: `${tokens.strokeWidthThin} solid ${tokens.colorNeutralStroke2}`,
    borderRadius: tokens.borderRadiusMedium,
    maxWidth: '1040px',
    // A phone: name and status on one line, the sentence and Retry below.
    '@media (max-width: 640px)': { gridTemplateColumns: 'minmax(0, 1fr) auto' },
  },
  what: { display: 'flex', flexDirection: 'column', minWidth: 0 },
  detail: {
    minWidth: 0,
    overflowWrap: 'anywhere',
    '@media (max-width: 640px)': { gridColumn: '1 / -1' },
  },
  action: { '@media (max-width: 640px)': { gridColumn: '1 / -1' } },
  heading: { overflowWrap: 'anywhere' },
  status: { justifySelf: 'start' },
  badge: { whiteSpace: 'nowrap' },
  muted: { color: tokens.colorNeutralForeground3 },
});

const DOWNLOAD_WORDS: Record<DownloadWork['state'], { label: string; color: BadgeProps['color'] }> = {
  queued: { label: 'Queued', color: 'informative' },
  running: { label: 'Running', color: 'brand' },
  waiting: { label: 'Waiting to retry', color: 'warning' },
  failed: { label: 'Failed', color: 'danger' },
  done: { label: 'Done', color: 'success' },
};

const count = (n: number) => n.toLocaleString();

/** What a download's state means, in a sentence: progress, when the next attempt is and why, or the reason it failed. */
function downloadDetail(work: DownloadWork): string {
  const progress = work.progress && work.progress.total > 0 ? `${count(work.progress.done)} of ${count(work.progress.total)} members` : null;
  switch (work.state) {
    case 'queued':
      return 'Member download queued; it starts shortly.';
    case 'running':
      return progress ? `Downloading members: ${progress}.` : 'Downloading members.';
    case 'waiting':
      return `Next attempt at ${formatTimeExact(work.retryAt)} (attempt ${work.attempts + 1} of ${work.maxAttempts}). ${work.reason ?? ''}`.trim();
    case 'failed':
      return work.reason ?? 'The member download failed.';
    case 'done': {
      const members = work.memberCount === null ? 'Members' : `${count(work.memberCount)} ${work.memberCount === 1 ? 'member' : 'members'}`;
      return work.completedAt ? `${members} downloaded at ${formatTime(work.completedAt)}.` : `${members} downloaded.`;
    }
  }
}

function healthWords(check: BackgroundWork['healthCheck']): { label: string; color: BadgeProps['color']; detail: string } {
  const next = check.nextDueAt ? ` Next check by ${formatTime(check.nextDueAt)}.` : '';
  if (check.running) return { label: 'Running', color: 'brand', detail: `The health sweep is running now.${next}` };
  if (check.retryAt) {
    return { label: 'Waiting to retry', color: 'warning', detail: `Failed at ${formatTime(check.lastError?.at)}: ${check.lastError?.message ?? ''} Tried again at ${formatTime(check.retryAt)} (attempt ${check.attempts + 1}).` };
  }
  switch (check.outcome) {
    case 'succeeded':
      return { label: 'Succeeded', color: 'success', detail: `Checked at ${formatTime(check.lastCheckedAt)}.${next}` };
    case 'failed':
      return { label: 'Failed', color: 'danger', detail: `Failed at ${formatTime(check.lastError?.at)}: ${check.lastError?.message ?? ''}${next}` };
    case 'expired':
      return { label: 'Paused', color: 'danger', detail: 'The authorization expired; checks resume once the app is re-authorized.' };
    case 'never':
      return { label: 'Not run yet', color: 'informative', detail: `Not checked yet.${next}` };
  }
}

function syncWords(sync: BackgroundWork['directorySync']): { label: string; color: BadgeProps['color']; detail: string } {
  const next = sync.nextDueAt ? ` Next sync by ${formatTime(sync.nextDueAt)}.` : '';
  if (sync.running) return { label: 'Running', color: 'brand', detail: `The directory sync is running now.${next}` };
  switch (sync.outcome) {
    case 'completed':
      return { label: 'Completed', color: 'success', detail: `Completed at ${formatTime(sync.lastCompletedAt)}.${next}` };
    case 'waiting':
      return { label: 'Waiting to retry', color: 'warning', detail: `${sync.reason ?? ''} Next attempt at ${formatTime(sync.retryAt)} (attempt ${sync.attempts + 1}).` };
    case 'failed':
      return {
        label: 'Failed',
        color: 'danger',
        detail: `Started at ${formatTime(sync.lastStartedAt)}. ${sync.reason ?? ''}${sync.lastCompletedAt ? ` Last completed at ${formatTime(sync.lastCompletedAt)}.` : ''}${next}`,
      };
    case 'paused':
      return { label: 'Paused', color: 'danger', detail: sync.reason ?? '' };
    case 'not_needed':
      return { label: 'Not needed', color: 'informative', detail: sync.reason ?? '' };
    case 'never':
      return { label: 'Not run yet', color: 'informative', detail: `Not synced yet.${next}` };
  }
}

/** A sync can be run at once unless one runs, the profile is expired, or nothing was added through it. */
const canSyncNow = (sync: BackgroundWork['directorySync']) => !sync.running && sync.outcome !== 'paused' && sync.outcome !== 'not_needed';

function Item({ title, subtitle, label, color, detail, action }: { title: string; subtitle?: string; label: string; color: BadgeProps['color']; detail: string; action?: ReactNode }) {
  const styles = useStyles();
  return (
    <li className={styles.item}>
      <div className={styles.what}>
        <Body1>
          <TruncatedText text={title} />
        </Body1>
        {subtitle ? (
          <Caption1 className={styles.muted}>
            <TruncatedText text={subtitle} />
          </Caption1>
        ) : null}
      </div>
      <div className={styles.status}>
        <Badge appearance="tint" color={color} className={styles.badge}>
          {label}
        </Badge>
      </div>
      <Caption1 className={styles.detail}>{detail}</Caption1>
      {action ? <div className={styles.action}>{action}</div> : null}
    </li>
  );
}

/**
 * One app profile's background work: its groups' member downloads (running with progress, waiting to retry with
 * when and why, failed with the reason and Retry), its health check and its directory sync.
 */
export function BackgroundWorkSection({ profile }: { profile: AppProfile }) {
  const styles = useStyles();
  const work = useBackgroundWork(profile.id);
  const retry = useRetryBackgroundJob(profile.id);
  const syncNow = useSyncNow(profile.id);
  const headingId = `background-work-${profile.id}`;
  const health = work.data ? healthWords(work.data.healthCheck) : null;
  const sync = work.data ? syncWords(work.data.directorySync) : null;
  return (
    <section className={styles.section} aria-labelledby={headingId}>
      <Subtitle2 as="h2" id={headingId} className={styles.heading}>
        Background work of “{profile.name}”
      </Subtitle2>
      {work.isPending ? <Loading /> : null}
      <ErrorBar error={work.error} title="The background work could not be loaded" onRetry={() => void work.refetch()} />
      <ErrorBar error={retry.error} title="The download could not be retried" />
      <ErrorBar error={syncNow.error} title="The directory sync could not be started" />
      {work.data && health && sync ? (
        <ul className={styles.list} aria-labelledby={headingId}>
          <Item title="Health check" subtitle="Token refresh and a small Graph read" {...health} />
          <Item
            title="Directory sync"
            subtitle="Users’ details and groups’ members"
            {...sync}
            action={
              canSyncNow(work.data.directorySync) ? (
                <Button size="small" icon={<ArrowClockwiseRegular />} aria-label={`Sync “${profile.name}” now`} disabled={syncNow.isPending} onClick={() => syncNow.mutate()}>
                  Sync now
                </Button>
              ) : undefined
            }
          />
          {work.data.downloads.map((download) => {
            const words = DOWNLOAD_WORDS[download.state];
            return (
              <Item
                key={download.groupId}
                title={`Member download: ${download.displayName}`}
                subtitle={download.group}
                label={words.label}
                color={words.color}
                detail={downloadDetail(download)}
                action={
                  download.retryable && download.jobId ? (
                    <Button
                      size="small"
                      icon={<ArrowClockwiseRegular />}
                      aria-label={`Retry the member download of ${download.group}`}
                      disabled={retry.isPending}
                      onClick={() => retry.mutate(download.jobId!)}
                    >
                      Retry
                    </Button>
                  ) : undefined
                }
              />
            );
          })}
          {work.data.downloads.length === 0 ? (
            <li>
              <Caption1 className={styles.muted}>No groups were added through this app profile, so there are no member downloads.</Caption1>
            </li>
          ) : null}
        </ul>
      ) : null}
    </section>
  );
}
