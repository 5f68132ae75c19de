import {
  Button,
  Caption1,
  DrawerBody,
  DrawerFooter,
  DrawerHeader,
  DrawerHeaderTitle,
  Dropdown,
  Field,
  Input,
  Option,
  OverlayDrawer,
  Radio,
  RadioGroup,
  Text,
  Textarea,
  makeStyles,
  tokens,
  useRestoreFocusTarget,
} from '@fluentui/react-components';
import { DismissRegular } from '@fluentui/react-icons';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { formErrors } from '../api/client';
import { useAddUsers, useAppProfiles } from '../api/hooks';
import type { AddUsersAnswer, AppProfile, Role } from '../api/models';
import { appendEmails, parseEmails } from '../format';
import { AppLink } from './AppLink';
import { BrowseDialog } from './BrowseDialog';
import { RoleField } from './RoleField';
import { ErrorBar, Notice } from './Feedback';

const useStyles = makeStyles({
  body: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL },
  row: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center', flexWrap: 'wrap' },
  list: { margin: 0, paddingLeft: tokens.spacingHorizontalXL },
  link: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center' },
  linkInput: { flexGrow: 1 },
  footer: { display: 'flex', gap: tokens.spacingHorizontalS },
  reason: { color: tokens.colorNeutralForeground3 },
});

export const NEW_PROFILE_PATH = `/settings/app-profiles?create=1&returnTo=${encodeURIComponent('/settings/users?add=1')}`;

type SignInType = 'local' | 'microsoft365';

const LAST_PROFILE_KEY = 'tenantgate.addUser.appProfile';

/** The app profile last used to add people, remembered in this browser. */
function rememberProfile(id: string): void {
  try {
    window.localStorage.setItem(LAST_PROFILE_KEY, id);
  } catch {
    // Storage may be off (private windows); preselection then just falls back.
  }
}

function lastUsedProfile(): string | null {
  try {
    return window.localStorage.getItem(LAST_PROFILE_KEY);
  } catch {
    return null;
  }
}

/**
 * The app profile the form starts with: the only one; else the only Active one; else the Active one last used
 * here; else none (the administrator chooses).
 */
function preselectedProfile(items: AppProfile[]): string | null {
  if (items.length === 1) return items[0].id;
  const active = items.filter((p) => p.status === 'active');
  if (active.length === 1) return active[0].id;
  const last = lastUsedProfile();
  return active.find((p) => p.id === last)?.id ?? null;
}

function profileOptionText(profile: AppProfile): string {
  return profile.status === 'active' ? profile.name : `${profile.name} (App authorization expired)`;
}

export function AddUserDrawer({ open, onClose }: { open: boolean; onClose: () => void }) {
  // Each opening starts a fresh form; the form stays while the panel closes, so focus can go back to its opener.
  const [opening, setOpening] = useState(0);
  const [wasOpen, setWasOpen] = useState(open);
  if (open !== wasOpen) {
    setWasOpen(open);
    if (open) setOpening(opening + 1);
  }
  return (
    <OverlayDrawer position="end" size="medium" open={open} onOpenChange={(_, d) => !d.open && onClose()}>
      <AddUserForm key={opening} onClose={onClose} />
    </OverlayDrawer>
  );
}

function AddUserForm({ onClose }: { onClose: () => void }) {
  const styles = useStyles();
  const navigate = useNavigate();
  const profiles = useAppProfiles();
  const add = useAddUsers();
  const [signInType, setSignInType] = useState<SignInType>('local');
  const [text, setText] = useState('');
  const [profileId, setProfileId] = useState<string | null>(null);
  const [role, setRole] = useState<Role>('member');
  const [browseOpen, setBrowseOpen] = useState(false);
  // Browse gets focus back when its dialog closes, so focus stays in this panel.
  const restoreFocusTarget = useRestoreFocusTarget();
  const [result, setResult] = useState<AddUsersAnswer | null>(null);
  const [emailsError, setEmailsError] = useState<string | undefined>();
  const [profileError, setProfileError] = useState<string | undefined>();

  const items = profiles.data ?? [];
  const chosenId = profileId ?? preselectedProfile(items);
  const profile = items.find((p) => p.id === chosenId) ?? null;
  const expired = profile !== null && profile.status !== 'active';
  const microsoft = signInType === 'microsoft365';
  const errors = formErrors(add.error, ['emails', 'appProfileId', 'role', 'signInType']);

  const onAdd = () => {
    const emails = parseEmails(text);
    const noEmails = emails.length === 0 ? 'Enter at least one email address.' : undefined;
    const noProfile = microsoft && !chosenId ? 'Choose an app profile.' : undefined;
    setEmailsError(noEmails);
    setProfileError(noProfile);
    if (noEmails || noProfile) return;
    setResult(null);
    add.mutate(
      { signInType, emails, role, ...(microsoft && chosenId ? { appProfileId: chosenId } : {}) },
      {
        onSuccess: (answer) => {
          if (microsoft && chosenId) rememberProfile(chosenId);
          setResult(answer);
          setText(answer.rejected.map((r) => r.email).join('\n'));
        },
      },
    );
  };

  const header = (
    <DrawerHeader>
      <DrawerHeaderTitle
        action={<Button appearance="subtle" aria-label="Close" icon={<DismissRegular />} onClick={onClose} />}
      >
        Add new user
      </DrawerHeaderTitle>
    </DrawerHeader>
  );

  // The answer gets a step of its own, so long reasons and activation links never cover the form.
  if (result) {
    return (
      <>
        {header}
        <DrawerBody className={styles.body}>
          <AddResult result={result} />
        </DrawerBody>
        <DrawerFooter className={styles.footer}>
          <Button appearance="primary" onClick={onClose}>
            Done
          </Button>
          <Button onClick={() => setResult(null)}>Add more</Button>
        </DrawerFooter>
      </>
    );
  }

  return (
    <>
      {header}
      <DrawerBody className={styles.body}>
        <ErrorBar error={errors.banner} />
        <Field label="Sign in type">
          <RadioGroup value={signInType} onChange={(_, d) => setSignInType(d.value as SignInType)}>
            <Radio value="local" label="Local user" />
            <Radio value="microsoft365" label="Microsoft 365 User/Group" />
          </RadioGroup>
        </Field>
        {microsoft ? (
          <>
            <Field
              label="App profile"
              hint="The Microsoft 365 tenant the addresses belong to."
              validationMessage={profileError ?? errors.on('appProfileId')}
            >
              <Dropdown
                value={profile ? profileOptionText(profile) : ''}
                selectedOptions={chosenId ? [chosenId] : []}
                onOptionSelect={(_, d) => {
                  setProfileId(d.optionValue ?? null);
                  setProfileError(undefined);
                }}
              >
                {items.map((p) => (
                  <Option key={p.id} value={p.id} text={profileOptionText(p)}>
                    {profileOptionText(p)}
                  </Option>
                ))}
              </Dropdown>
            </Field>
            <ErrorBar error={profiles.error} />
            {profile && profile.status !== 'active' ? (
              <Notice intent="warning">
                The app authorization of “{profile.name}” has expired, so its Microsoft 365 users and groups cannot
                be checked or added. <AppLink to="/settings/app-profiles">Re-authorize</AppLink>
              </Notice>
            ) : null}
            <div className={styles.row}>
              <Button onClick={() => navigate(NEW_PROFILE_PATH)}>New app profile</Button>
              <Button
                {...restoreFocusTarget}
                onClick={() => setBrowseOpen(true)}
                disabled={!chosenId}
                // Focusable while expired, so its reason is read with it.
                disabledFocusable={expired}
                aria-describedby={expired ? 'browse-unavailable' : undefined}
              >
                Browse
              </Button>
            </div>
            {expired ? (
              <Caption1 id="browse-unavailable" className={styles.reason}>
                Browse is unavailable: the app authorization of this profile has expired.
              </Caption1>
            ) : null}
          </>
        ) : null}
        <Field
          label="Email addresses"
          hint="One per line, or separated by commas or semicolons."
          validationMessage={emailsError ?? errors.on('emails')}
        >
          <Textarea value={text} onChange={(_, d) => setText(d.value)} rows={6} resize="vertical" />
        </Field>
        <RoleField value={role} onChange={setRole} />
      </DrawerBody>
      <DrawerFooter className={styles.footer}>
        <Button appearance="primary" onClick={onAdd} disabled={add.isPending}>
          Add
        </Button>
        <Button onClick={onClose}>Cancel</Button>
      </DrawerFooter>
      <BrowseDialog
        open={browseOpen}
        profileId={expired ? null : chosenId}
        onClose={() => setBrowseOpen(false)}
        onAdd={(emails) => {
          setText((current) => appendEmails(current, emails));
          setEmailsError(undefined);
          setBrowseOpen(false);
        }}
      />
    </>
  );
}

function AddResult({ result }: { result: AddUsersAnswer }) {
  const styles = useStyles();
  const count = result.added.length;
  const invitations = result.invitations ?? [];
  return (
    <>
      <Notice intent={result.rejected.length ? (count ? 'warning' : 'error') : 'success'}>
        {count === 1 ? 'Added 1 user.' : `Added ${count} users.`}
        {result.rejected.length ? (
          <>
            {' '}
            {result.rejected.length === 1
              ? '1 address was not added:'
              : `${result.rejected.length} addresses were not added:`}
            <ul className={styles.list} aria-label="Rejected addresses">
              {result.rejected.map((rejected) => (
                <li key={rejected.email}>
                  {rejected.email}: {rejected.message}
                </li>
              ))}
            </ul>
            <div>Choose Add more to correct them: they stay in the address box.</div>
          </>
        ) : null}
      </Notice>
      {result.invitationsEmailed ? (
        <Notice intent="info">
          {result.invitationsEmailed === 1 ? 'An invitation email was sent.' : `${result.invitationsEmailed} invitation emails were sent.`} The link in it
          works once, for 72 hours.
        </Notice>
      ) : null}
      {invitations.length ? (
        <Notice intent="info">
          <Text weight="semibold">Activation links</Text>
          <div>
            Each link is shown only once. Copy it now and send it to the user, who sets a password with it.
          </div>
          {invitations.map((invitation) => (
            <ActivationLink key={invitation.email} email={invitation.email} url={invitation.activationUrl} />
          ))}
        </Notice>
      ) : null}
    </>
  );
}

function ActivationLink({ email, url }: { email: string; url: string }) {
  const styles = useStyles();
  const [copied, setCopied] = useState(false);
  const absolute = new URL(url, window.location.origin).toString();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(absolute);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div>
      <Caption1>{email}</Caption1>
      <div className={styles.link}>
        <Input
          className={styles.linkInput}
          readOnly
          value={absolute}
          aria-label={`Activation link for ${email}`}
          onFocus={(event) => event.target.select()}
        />
        <Button onClick={copy} aria-label={`Copy activation link for ${email}`}>
          {copied ? 'Copied' : 'Copy'}
        </Button>
      </div>
    </div>
  );
}
