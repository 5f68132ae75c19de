import { Badge, Button, Menu, MenuButton, MenuItem, MenuList, MenuPopover, MenuTrigger, makeStyles, tokens } from '@fluentui/react-components';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { PersonRegular } from '@fluentui/react-icons';
import { Link as RouterLink, Outlet, useNavigate } from 'react-router';
import { api, setCsrfToken } from '../api/client';
import { keys, useSandbox, useSession, useSignOut } from '../api/hooks';
import { ErrorBar } from './Feedback';
import { NotificationsBell } from './NotificationsBell';

const useStyles = makeStyles({
  skip: {
    position: 'absolute',
    left: tokens.spacingHorizontalS,
    top: '-48px',
    zIndex: 1,
    padding: tokens.spacingHorizontalS,
    backgroundColor: tokens.colorNeutralBackground1,
    color: tokens.colorBrandForeground1,
    ':focus': { top: tokens.spacingVerticalS },
  },
  bar: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    columnGap: tokens.spacingHorizontalL,
    rowGap: tokens.spacingVerticalXS,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalXL}`,
    '@media (max-width: 640px)': { padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}` },
    backgroundColor: tokens.colorBrandBackground,
    color: tokens.colorNeutralForegroundOnBrand,
  },
  brand: {
    color: tokens.colorNeutralForegroundOnBrand,
    textDecoration: 'none',
    fontWeight: tokens.fontWeightSemibold,
    fontSize: tokens.fontSizeBase500,
  },
  badge: { whiteSpace: 'nowrap', flexShrink: 0 },
  spacer: { flexGrow: 1 },
  nav: { display: 'flex', gap: tokens.spacingHorizontalL, alignItems: 'center' },
  link: { color: tokens.colorNeutralForegroundOnBrand },
  email: {
    minWidth: 0,
    maxWidth: '320px',
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    whiteSpace: 'nowrap',
    '@media (max-width: 640px)': { display: 'none' },
  },
  main: {
    display: 'flex',
    flexDirection: 'column',
    gap: tokens.spacingVerticalL,
    padding: `${tokens.spacingVerticalXL} ${tokens.spacingHorizontalXXL}`,
    maxWidth: '1400px',
    minWidth: 0,
    boxSizing: 'border-box',
    outline: 'none',
    '@media (max-width: 640px)': { padding: `${tokens.spacingVerticalL} ${tokens.spacingHorizontalM}` },
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
      <a href="#main" className={styles.skip}>
        Skip to main content
      </a>
      <header className={styles.bar}>
        <RouterLink to="/" className={styles.brand}>
          Tenantgate
        </RouterLink>
        {sandbox.data?.enabled ? (
          <Badge appearance="filled" color="warning" className={styles.badge}>
            Sandbox Microsoft cloud
          </Badge>
        ) : null}
        <span className={styles.spacer} />
        {user ? <NotificationsBell /> : null}
        {user ? (
          <Menu>
            <MenuTrigger disableButtonEnhancement>
              <MenuButton appearance="transparent" className={styles.link} icon={<PersonRegular />} title={user.email} aria-label={`Account ${user.email}`}>
                <span className={styles.email}>{user.email}</span>
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
        <nav aria-label="Main" className={styles.nav}>
          <RouterLink to="/" className={styles.link}>
            Home
          </RouterLink>
          {user?.role === 'administrator' ? (
            <RouterLink to="/settings" className={styles.link}>
              Settings
            </RouterLink>
          ) : null}
        </nav>
        <Button appearance="secondary" onClick={onSignOut} disabled={signOut.isPending}>
          Sign out
        </Button>
      </header>
      <main id="main" tabIndex={-1} className={styles.main}>
        <ErrorBar error={signOut.error ?? signOutEverywhere.error} />
        <Outlet />
      </main>
    </>
  );
}
