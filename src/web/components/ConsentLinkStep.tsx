import { Button, DialogActions, DialogBody, DialogContent, DialogTitle, Field, Input, Text, makeStyles, tokens } from '@fluentui/react-components';
import { CopyRegular } from '@fluentui/react-icons';
import { useState, type FormEvent } from 'react';
import { useCreateConsentLink } from '../api/hooks';
import type { CloudId } from '../api/models';
import { formatTime } from '../format';
import { ErrorBar } from './Feedback';

const useStyles = makeStyles({
  content: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  row: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'end' },
  grow: { flexGrow: 1 },
});

/**
 * "Send a link instead": a single-use link for a Global Administrator who has no portal account, shown
 * once with a Copy button. For a new profile (`name`, `cloud`) or for re-authorizing one (`profileId`).
 */
export function ConsentLinkStep({
  target,
  onBack,
  onClose,
}: {
  target: { profileId: string; profileName: string } | { name: string; cloud: CloudId };
  onBack: () => void;
  onClose: () => void;
}) {
  const styles = useStyles();
  const create = useCreateConsentLink();
  const [email, setEmail] = useState('');
  const [copied, setCopied] = useState(false);
  const [sentTo, setSentTo] = useState<string | undefined>();
  const answer = create.data;
  const what = 'profileId' in target ? `re-authorize “${target.profileName}”` : `create “${target.name}”`;

  const onCreate = (event: FormEvent) => {
    event.preventDefault();
    const mail = email.trim() || undefined;
    setSentTo(mail);
    create.mutate('profileId' in target ? { profileId: target.profileId, email: mail } : { name: target.name, cloud: target.cloud, email: mail });
  };

  const onCopy = async () => {
    if (!answer) return;
    await navigator.clipboard?.writeText(answer.url).catch(() => undefined);
    setCopied(true);
  };

  if (answer) {
    return (
      <DialogBody>
        <DialogTitle>Consent link</DialogTitle>
        <DialogContent className={styles.content}>
          <Text>
            Send this link to a Microsoft 365 Global Administrator of the tenant to {what}. It works once, until{' '}
            {formatTime(answer.expiresAt)}, and is shown only now. Until then the app profiles page lists it as “Waiting
            for consent”, where you can revoke it.
          </Text>
          {answer.emailed && sentTo ? <Text weight="semibold">Emailed to {sentTo}.</Text> : null}
          {!answer.emailed && sentTo ? <Text>Not emailed to {sentTo}: copy the link and send it yourself.</Text> : null}
          <div className={styles.row}>
            <Field label="Link" className={styles.grow}>
              <Input value={answer.url} readOnly onFocus={(event) => event.currentTarget.select()} />
            </Field>
            <Button icon={<CopyRegular />} onClick={onCopy}>
              {copied ? 'Copied' : 'Copy'}
            </Button>
          </div>
        </DialogContent>
        <DialogActions>
          <Button appearance="primary" onClick={onClose}>
            Done
          </Button>
        </DialogActions>
      </DialogBody>
    );
  }

  return (
    <form onSubmit={onCreate}>
      <DialogBody>
        <DialogTitle>Send a link instead</DialogTitle>
        <DialogContent className={styles.content}>
          <Text>
            A Global Administrator without a Tenantgate account can {what} from a single-use link valid for 72 hours.
            They see who asks, which permissions and why, then consent at Microsoft.
          </Text>
          <Field label="Global Administrator’s email (optional, suggested at Microsoft's sign-in)">
            <Input type="email" value={email} onChange={(_, d) => setEmail(d.value)} />
          </Field>
          <ErrorBar error={create.error} />
        </DialogContent>
        <DialogActions>
          <Button appearance="primary" type="submit" disabled={create.isPending}>
            Create link
          </Button>
          <Button onClick={onBack}>Back</Button>
        </DialogActions>
      </DialogBody>
    </form>
  );
}
