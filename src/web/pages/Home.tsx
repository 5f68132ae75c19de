import { Body1, makeStyles, tokens } from '@fluentui/react-components';
import { useSession } from '../api/hooks';
import { AppLink } from '../components/AppLink';
import { PageHeader } from '../components/PageHeader';
import { ExpiredProfilesBanner } from '../components/ProfileHealth';

const useStyles = makeStyles({
  body: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, maxWidth: '760px' },
  list: { margin: 0, paddingLeft: tokens.spacingHorizontalXL },
});

export function HomePage() {
  const styles = useStyles();
  const session = useSession();
  const user = session.data?.user;
  if (!user) return null;
  const name = user.displayName?.trim();
  const partner = session.data?.partner.name ?? 'Tenantgate';
  // Without a real name (the display name is the address) the address is already in the account menu.
  const heading = name && name.toLowerCase() !== user.email.toLowerCase() ? `Welcome, ${name}` : `Welcome to ${partner}`;
  return (
    <>
      <PageHeader title="Home" heading={heading} />
      {user.role === 'administrator' ? (
        <div className={styles.body}>
          <ExpiredProfilesBanner />
          <Body1>
            Connect Microsoft 365 tenants and manage who can sign in from{' '}
            <AppLink to="/settings">Settings</AppLink>.
          </Body1>
        </div>
      ) : (
        <div className={styles.body}>
          <Body1>
            You are signed in to {partner} as {user.email}, with the Member role. There is nothing a Member needs to
            set up here.
          </Body1>
          <Body1>What you can do:</Body1>
          <ul className={styles.list}>
            <li>
              <Body1>Sign out with Sign out at the top of the page.</Body1>
            </li>
            <li>
              <Body1>
                Sign out on every device (a lost laptop, a shared computer) from the menu under your email address.
              </Body1>
            </li>
          </ul>
          <Body1>
            Adding people, connecting Microsoft 365 tenants and reading the audit log are for Administrators. If you
            need one of them, ask an Administrator of {partner} to do it or to change your role.
          </Body1>
        </div>
      )}
    </>
  );
}
