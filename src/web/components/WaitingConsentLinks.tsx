import {
  Badge,
  Button,
  Subtitle2,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useConsentLinks, useRevokeConsentLink } from '../api/hooks';
import { formatTime } from '../format';
import { ErrorBar } from './Feedback';

const useStyles = makeStyles({
  section: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, marginTop: tokens.spacingVerticalL, overflowX: 'auto' },
});

/** Consent links a Global Administrator has not used yet: one row each, with its expiry and Revoke. */
export function WaitingConsentLinks() {
  const styles = useStyles();
  const links = useConsentLinks();
  const revoke = useRevokeConsentLink();
  const waiting = (links.data ?? []).filter((link) => link.state === 'waiting');
  if (waiting.length === 0 && !revoke.error) return null;
  return (
    <section className={styles.section} aria-labelledby="waiting-for-consent">
      <Subtitle2 as="h2" id="waiting-for-consent">
        Waiting for consent
      </Subtitle2>
      <ErrorBar error={revoke.error} />
      <Table aria-labelledby="waiting-for-consent" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Name</TableHeaderCell>
            <TableHeaderCell>Status</TableHeaderCell>
            <TableHeaderCell>For</TableHeaderCell>
            <TableHeaderCell>Expires</TableHeaderCell>
            <TableHeaderCell>Action</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {waiting.map((link) => (
            <TableRow key={link.id}>
              <TableCell>{link.profileName}</TableCell>
              <TableCell>
                <Badge appearance="tint" color="warning">
                  Waiting for consent
                </Badge>
              </TableCell>
              <TableCell>
                {link.kind === 'create' ? 'New app profile' : 'Re-authorize app'}
                {link.email ? ` (${link.email})` : ''}
              </TableCell>
              <TableCell>{formatTime(link.expiresAt)}</TableCell>
              <TableCell>
                <Button size="small" disabled={revoke.isPending} onClick={() => revoke.mutate(link.id)}>
                  Revoke link for {link.profileName}
                </Button>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </section>
  );
}
