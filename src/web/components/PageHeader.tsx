import { Title2, makeStyles } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import { RoundTripOutcome } from './RoundTripOutcome';
import { usePageTitle } from './usePageTitle';

/**
 * The top of a signed-in page: its heading, then the outcome of a Microsoft round trip that brought the browser
 * here (messages come under the title they belong to, never above it). Names the browser tab after the page.
 */
const useStyles = makeStyles({
  // A heading may hold an address ("Welcome, pat@contoso.com"): it breaks rather than widen a phone's page.
  heading: { overflowWrap: 'anywhere' },
});

export function PageHeader({ title, heading }: { title: string; heading?: ReactNode }) {
  usePageTitle(title);
  const styles = useStyles();
  return (
    <>
      <Title2 as="h1" className={styles.heading}>
        {heading ?? title}
      </Title2>
      <RoundTripOutcome />
    </>
  );
}
