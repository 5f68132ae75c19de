import { Body1 } from '@fluentui/react-components';
import { useSession } from '../api/hooks';
import { AppLink } from '../components/AppLink';
import { PageHeader } from '../components/PageHeader';

export function HomePage() {
  const session = useSession();
  const user = session.data?.user;
  if (!user) return null;
  const name = user.displayName?.trim() || user.email;
  return (
    <>
      <PageHeader title="Home" heading={`Welcome, ${name}`} />
      {user.role === 'administrator' ? (
        <Body1>
          Connect Microsoft 365 tenants and manage who can sign in from{' '}
          <AppLink to="/settings">Settings</AppLink>.
        </Body1>
      ) : (
        <Body1>You are signed in to {session.data?.partner.name ?? 'Tenantgate'}.</Body1>
      )}
    </>
  );
}
