import { Badge, Button, Menu, MenuButton, MenuItem, MenuList, MenuPopover, MenuTrigger, makeStyles, tokens } from '@fluentui/react-components';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link as RouterLink, Outlet, useNavigate } from 'react-router';
import { api, setCsrfToken } from '../api/client';
import { keys, useSandbox, useSession, useSignOut } from '../api/hooks';
import { ErrorBar } from './Feedback';
import { RoundTripOutcome } from './RoundTripOutcome';

const useStyles = makeStyles({
  bar: {
    display: 'flex',
    alignItems: 'center',
    gap: tokens.spacingHorizontalL,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalXL}`,
    backgroundColor: tokens.colorBrandBackground,
    color: tokens.colorNeutralForegroundOnBrand,
  },
  brand: {
    color: tokens.colorNeutralForegroundOnBrand,
    textDecoration: 'none',
    fontWeight: tokens.fontWeightSemibold,
    fontSize: tokens.fontSizeBase500,
  },
  spacer: { flexGrow: 1 },
  link: { color: tokens.colorNeutralForegroundOnBrand },
  main: {
    display: 'flex',
    flexDirection: 'column',
    gap: tokens.spacingVerticalL,
    padding: `${tokens.spacingVerticalXL} ${tokens.spacingHorizontalXXL}`,
    maxWidth: '1400px',
  },
});

export function Shell() {
  const styles = useStyles();
  const session = useSession();
  const sandbox = useSandbox();
  const signOut = useSignOut();
  const signOutEverywhere = useMutation({ mutationFn: () => api.del<unknown>('/api/sessions') });
  const navigate = useNavigate();
  const client = useQueryClient();
  const user = session.data?.user;

  const signedOut = () => {
    setCsrfToken(null);
    navigate('/signin', { replace: true });
    client.removeQueries({ predicate: (q) => q.queryKey[0] !== 'sandbox' });
    client.setQueryData(keys.session, null);
  };
  const onSignOut = () => signOut.mutate(undefined, { onSuccess: signedOut });
  // Ends every session of this person, in every browser (a lost laptop, a shared computer).
  const onSignOutEverywhere = () => signOutEverywhere.mutate(undefined, { onSuccess: signedOut });

  return (
    <>
      <header className={styles.bar}>
        <RouterLink to="/" className={styles.brand}>
          Tenantgate
        </RouterLink>
        {sandbox.data?.enabled ? (
          <Badge appearance="filled" color="warning">
            Sandbox Microsoft cloud
          </Badge>
        ) : null}
        <span className={styles.spacer} />
        {user ? (
          <Menu>
            <MenuTrigger disableButtonEnhancement>
              <MenuButton appearance="transparent" className={styles.link}>
                {user.email}
              </MenuButton>
            </MenuTrigger>
            <MenuPopover>
              <MenuList>
                <MenuItem onClick={onSignOutEverywhere} disabled={signOutEverywhere.isPending}>
                  Sign out everywhere
                </MenuItem>
              </MenuList>
            </MenuPopover>
          </Menu>
        ) : null}
        {user?.role === 'administrator' ? (
          <RouterLink to="/settings" className={styles.link}>
            Settings
          </RouterLink>
        ) : null}
        <Button appearance="secondary" onClick={onSignOut} disabled={signOut.isPending}>
          Sign out
        </Button>
      </header>
      <main className={styles.main}>
        <ErrorBar error={signOut.error ?? signOutEverywhere.error} />
        <RoundTripOutcome />
        <Outlet />
      </main>
    </>
  );
}
