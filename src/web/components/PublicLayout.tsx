import { Card, Title2, makeStyles, tokens } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import { usePageTitle } from './usePageTitle';

const useStyles = makeStyles({
  page: {
    minHeight: '100vh',
    display: 'flex',
    alignItems: 'flex-start',
    justifyContent: 'center',
    paddingTop: '10vh',
    backgroundColor: tokens.colorNeutralBackground2,
  },
  card: { width: '420px', maxWidth: '92vw', padding: tokens.spacingHorizontalXXL },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  brand: { color: tokens.colorBrandForeground1, fontWeight: tokens.fontWeightSemibold },
});

/** The frame of the pages before sign-in: one card, titled, in the page's main landmark. */
export function PublicLayout({ title, children }: { title: string; children: ReactNode }) {
  const styles = useStyles();
  usePageTitle(title);
  return (
    <main className={styles.page}>
      <Card className={styles.card}>
        <span className={styles.brand}>Tenantgate</span>
        <Title2 as="h1">{title}</Title2>
        <div className={styles.form}>{children}</div>
      </Card>
    </main>
  );
}

export const useFormStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  row: { display: 'flex', gap: tokens.spacingHorizontalM, alignItems: 'center', flexWrap: 'wrap' },
});
