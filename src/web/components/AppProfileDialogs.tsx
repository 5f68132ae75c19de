import {
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Radio,
  RadioGroup,
  Text,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import {
  useClouds,
  useCreateAppProfile,
  useDetectCloud,
  useDeleteAppProfiles,
  useProfileNameCheck,
  useReauthorizeAppProfile,
  useRenameAppProfile,
} from '../api/hooks';
import type { AppProfile, CloudId, DeleteProfilesAnswer } from '../api/models';
import { loginHostHint, usersAndGroups } from '../format';
import { nameProblem } from '../forms';
import { AppLink } from './AppLink';
import { useDangerStyles } from './danger';
import { useLastValue } from './useLastValue';
import { ConsentLinkStep } from './ConsentLinkStep';
import { ErrorBar, Loading } from './Feedback';

// Each dialog keeps its state in an inner component that mounts when the dialog opens, so reopening starts fresh.

const useStyles = makeStyles({
  content: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  list: { margin: 0, paddingLeft: tokens.spacingHorizontalXL },
  hint: { display: 'block', color: tokens.colorNeutralForeground3 },
  detectRow: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'flex-start' },
  detectInput: { flexGrow: 1 },
});

/** Whether an error from creating or renaming belongs on the "Profile name" field. */
function isNameError(error: unknown): error is ApiError {
  return error instanceof ApiError && (error.field === 'name' || error.status === 409);
}

function closeOnDismiss(onClose: () => void) {
  return (_: unknown, data: { open: boolean }) => {
    if (!data.open) onClose();
  };
}

// ---- Create: first the name, then the Microsoft 365 sign-in confirmation ----

export function CreateProfileDialog({
  open,
  returnTo,
  onClose,
}: {
  open: boolean;
  returnTo: string;
  onClose: () => void;
}) {
  return (
    <Dialog open={open} onOpenChange={closeOnDismiss(onClose)}>
      <DialogSurface>
        <CreateProfileSteps returnTo={returnTo} onClose={onClose} />
      </DialogSurface>
    </Dialog>
  );
}

function CreateProfileSteps({ returnTo, onClose }: { returnTo: string; onClose: () => void }) {
  const styles = useStyles();
  const [step, setStep] = useState<'name' | 'confirm' | 'link'>('name');
  const [linkCloud, setLinkCloud] = useState<CloudId>('global');
  const [name, setName] = useState('');
  const [nameError, setNameError] = useState<string | undefined>();
  const [cloud, setCloud] = useState<CloudId | ''>('');
  const [cloudError, setCloudError] = useState<string | undefined>();
  const clouds = useClouds();
  const create = useCreateAppProfile();
  const nameCheck = useProfileNameCheck();
  const options = clouds.data?.clouds ?? [];
  const chooseCloud = options.length > 1;
  // Global vs U.S. Government is where partners go wrong, so that choice is never made for them; where it is
  // not offered (a global deployment that also serves 21Vianet), Global is the likely answer and comes chosen.
  const choice = cloud || (options.some((o) => o.id === 'usgov') ? '' : (options[0]?.id ?? ''));

  const onContinue = (event: FormEvent) => {
    event.preventDefault();
    const problem = nameProblem(name, 'profile');
    setNameError(problem);
    if (problem) return;
    // A name already used is said here, on the name, not after the Microsoft 365 step.
    nameCheck.mutate(name.trim(), {
      onSuccess: (answer) => {
        if (!answer.available) {
          setNameError(answer.message ?? 'An app profile of that name already exists. Choose another name.');
          return;
        }
        create.reset();
        setStep('confirm');
      },
      onError: (error) => {
        if (isNameError(error)) setNameError(error.message);
      },
    });
  };

  /** The version to connect, or null (with the field's message) when one must still be chosen. */
  const chosenCloud = (): CloudId | null => {
    if (chooseCloud && !choice) {
      setCloudError('Choose a version.');
      return null;
    }
    setCloudError(undefined);
    return chooseCloud && choice ? choice : (options[0]?.id ?? 'global');
  };

  const onConfirm = (event: FormEvent) => {
    event.preventDefault();
    const chosen = chosenCloud();
    if (!chosen) return;
    create.mutate(
      { name: name.trim(), cloud: chosen, returnTo },
      {
        onSuccess: (answer) => window.location.assign(answer.authorizationUrl),
        onError: (error) => {
          if (isNameError(error)) {
            setNameError(error.message);
            setStep('name');
          }
        },
      },
    );
  };

  if (step === 'name') {
    return (
      <form onSubmit={onContinue}>
        <DialogBody>
          <DialogTitle>Create app profile</DialogTitle>
          <DialogContent className={styles.content}>
            <Text>
              An app profile connects one Microsoft 365 tenant to Tenantgate. Enter a name for the app profile.
            </Text>
            <Field label="Profile name" validationMessage={nameError}>
              <Input value={name} onChange={(_, d) => setName(d.value)} autoFocus />
            </Field>
            {nameCheck.error && !isNameError(nameCheck.error) ? <ErrorBar error={nameCheck.error} /> : null}
          </DialogContent>
          <DialogActions>
            <Button appearance="primary" type="submit" disabled={nameCheck.isPending}>
              Continue
            </Button>
            <Button onClick={onClose}>Cancel</Button>
          </DialogActions>
        </DialogBody>
      </form>
    );
  }

  if (step === 'link') {
    return <ConsentLinkStep target={{ name: name.trim(), cloud: linkCloud }} onBack={() => setStep('confirm')} onClose={onClose} />;
  }

  return (
    <form onSubmit={onConfirm}>
      <DialogBody>
        <DialogTitle>Go to Microsoft 365 sign-in</DialogTitle>
        <DialogContent className={styles.content}>
          <Text>
            You will be taken to the Microsoft 365 sign-in page. Sign in with a Microsoft 365 Global Administrator
            account; you can enter another account there to create a new app profile.
          </Text>
          {clouds.isPending ? <Loading /> : null}
          <ErrorBar error={clouds.error} />
          {chooseCloud ? (
            <DetectCloud
              onDetected={(id) => {
                setCloud(id);
                setCloudError(undefined);
              }}
            />
          ) : null}
          {chooseCloud ? (
            <Field label="Version" validationMessage={cloudError}>
              <RadioGroup value={choice} onChange={(_, d) => setCloud(d.value as CloudId)}>
                {options.map((option) => (
                  <Radio
                    key={option.id}
                    value={option.id}
                    label={{
                      children: (
                        <>
                          {option.label}
                          <Text size={200} className={styles.hint} aria-hidden>
                            {loginHostHint(option.loginHost)}
                          </Text>
                        </>
                      ),
                    }}
                  />
                ))}
              </RadioGroup>
            </Field>
          ) : null}
          <ErrorBar error={create.error && !isNameError(create.error) ? create.error : null} />
        </DialogContent>
        <DialogActions>
          <Button appearance="primary" type="submit" disabled={create.isPending || clouds.isPending}>
            OK
          </Button>
          <Button
            disabled={clouds.isPending}
            onClick={() => {
              const chosen = chosenCloud();
              if (!chosen) return;
              setLinkCloud(chosen);
              setStep('link');
            }}
          >
            Send a link instead
          </Button>
          <Button onClick={onClose}>Cancel</Button>
        </DialogActions>
      </DialogBody>
    </form>
  );
}

/**
 * Optional: the tenant's domain, and "Detect" reads which version it is in and chooses it (with a sentence
 * saying why, e.g. "GCC tenants use Global Microsoft 365."). A failure says what went wrong and chooses nothing.
 */
function DetectCloud({ onDetected }: { onDetected: (cloud: CloudId) => void }) {
  const styles = useStyles();
  const [domain, setDomain] = useState('');
  const detect = useDetectCloud();
  const run = () => {
    if (!domain.trim()) return;
    detect.mutate(domain.trim(), { onSuccess: (answer) => onDetected(answer.cloud) });
  };
  return (
    <>
      <Field label="Tenant domain" hint="Optional: a domain of the tenant, such as contoso.com, to find its version.">
        <div className={styles.detectRow}>
          <Input
            className={styles.detectInput}
            value={domain}
            onChange={(_, d) => {
              setDomain(d.value);
              detect.reset();
            }}
            onKeyDown={(event) => {
              // Enter detects here instead of submitting the dialog (which would leave for Microsoft).
              if (event.key === 'Enter') {
                event.preventDefault();
                run();
              }
            }}
          />
          <Button type="button" onClick={run} disabled={detect.isPending || !domain.trim()}>
            Detect
          </Button>
        </div>
      </Field>
      {detect.isPending ? <Loading /> : null}
      {detect.data ? (
        <MessageBar intent="info">
          <MessageBarBody>
            {detect.data.cloudLabel} chosen: {detect.data.explanation}
          </MessageBarBody>
        </MessageBar>
      ) : null}
      <ErrorBar error={detect.error} title="The version could not be detected; choose it below." />
    </>
  );
}

// ---- Edit profile name ----

export function RenameProfileDialog({
  profile,
  onClose,
  onRenamed,
}: {
  profile: AppProfile | null;
  onClose: () => void;
  onRenamed: (profile: AppProfile) => void;
}) {
  const shown = useLastValue(profile);
  return (
    <Dialog open={profile !== null} onOpenChange={closeOnDismiss(onClose)}>
      <DialogSurface>
        {shown ? <RenameForm profile={shown} onClose={onClose} onRenamed={onRenamed} /> : null}
      </DialogSurface>
    </Dialog>
  );
}

function RenameForm({
  profile,
  onClose,
  onRenamed,
}: {
  profile: AppProfile;
  onClose: () => void;
  onRenamed: (profile: AppProfile) => void;
}) {
  const styles = useStyles();
  const rename = useRenameAppProfile();
  const [name, setName] = useState(profile.name);
  const [nameError, setNameError] = useState<string | undefined>();

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const problem = nameProblem(name, 'profile');
    setNameError(problem);
    if (problem) return;
    rename.mutate(
      { id: profile.id, name: name.trim() },
      {
        onSuccess: onRenamed,
        onError: (error) => {
          if (isNameError(error)) setNameError(error.message);
        },
      },
    );
  };

  return (
    <form onSubmit={onSubmit}>
      <DialogBody>
        <DialogTitle>Edit profile name</DialogTitle>
        <DialogContent className={styles.content}>
          <Field label="Profile name" validationMessage={nameError}>
            <Input value={name} onChange={(_, d) => setName(d.value)} autoFocus />
          </Field>
          <ErrorBar error={rename.error && !isNameError(rename.error) ? rename.error : null} />
        </DialogContent>
        <DialogActions>
          <Button appearance="primary" type="submit" disabled={rename.isPending}>
            OK
          </Button>
          <Button onClick={onClose}>Cancel</Button>
        </DialogActions>
      </DialogBody>
    </form>
  );
}

// ---- Re-authorize app ----

export function ReauthorizeDialog({
  profile,
  returnTo,
  onClose,
}: {
  profile: AppProfile | null;
  returnTo: string;
  onClose: () => void;
}) {
  const shown = useLastValue(profile);
  return (
    <Dialog open={profile !== null} onOpenChange={closeOnDismiss(onClose)}>
      <DialogSurface>
        {shown ? <ReauthorizeForm profile={shown} returnTo={returnTo} onClose={onClose} /> : null}
      </DialogSurface>
    </Dialog>
  );
}

function ReauthorizeForm({
  profile,
  returnTo,
  onClose,
}: {
  profile: AppProfile;
  returnTo: string;
  onClose: () => void;
}) {
  const styles = useStyles();
  const reauthorize = useReauthorizeAppProfile();
  const [account, setAccount] = useState<'current' | 'another'>('current');
  const [sendLink, setSendLink] = useState(false);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    reauthorize.mutate(
      { id: profile.id, account, returnTo },
      { onSuccess: (answer) => window.location.assign(answer.authorizationUrl) },
    );
  };

  if (sendLink) {
    return <ConsentLinkStep target={{ profileId: profile.id, profileName: profile.name }} onBack={() => setSendLink(false)} onClose={onClose} />;
  }

  return (
    <form onSubmit={onSubmit}>
      <DialogBody>
        <DialogTitle>Re-authorize app</DialogTitle>
        <DialogContent className={styles.content}>
          <Text>
            Re-authorize the Tenantgate - User Management app for the app profile “{profile.name}”. This needs a
            Microsoft 365 Global Administrator account of the profile’s tenant.
          </Text>
          <Field label="Account">
            <RadioGroup value={account} onChange={(_, d) => setAccount(d.value as 'current' | 'another')}>
              <Radio
                value="current"
                label={profile.authorizedBy ? `Use the current account (${profile.authorizedBy})` : 'Use the current account'}
              />
              <Radio value="another" label="Sign out and use another account" />
            </RadioGroup>
          </Field>
          <ErrorBar error={reauthorize.error} />
        </DialogContent>
        <DialogActions>
          <Button appearance="primary" type="submit" disabled={reauthorize.isPending}>
            OK
          </Button>
          <Button onClick={() => setSendLink(true)}>Send a link instead</Button>
          <Button onClick={onClose}>Cancel</Button>
        </DialogActions>
      </DialogBody>
    </form>
  );
}

// ---- Delete app profiles ----

export function DeleteProfilesDialog({
  profiles,
  onClose,
  onDone,
}: {
  profiles: AppProfile[] | null;
  onClose: () => void;
  onDone: (answer: DeleteProfilesAnswer, profiles: AppProfile[]) => void;
}) {
  const shown = useLastValue(profiles);
  return (
    <Dialog open={profiles !== null} onOpenChange={closeOnDismiss(onClose)}>
      <DialogSurface>
        {shown ? <DeleteConfirmation profiles={shown} onClose={onClose} onDone={onDone} /> : null}
      </DialogSurface>
    </Dialog>
  );
}

function DeleteConfirmation({
  profiles,
  onClose,
  onDone,
}: {
  profiles: AppProfile[];
  onClose: () => void;
  onDone: (answer: DeleteProfilesAnswer, profiles: AppProfile[]) => void;
}) {
  const styles = useStyles();
  const danger = useDangerStyles();
  const remove = useDeleteAppProfiles();

  // Profiles known to be in use cannot be deleted: say so up front instead of promising a deletion.
  const inUse = profiles.filter((profile) => profile.inUse.users + profile.inUse.groups > 0);
  const deletable = profiles.filter((profile) => !inUse.includes(profile));

  const onDelete = () => {
    remove.mutate(
      deletable.map((profile) => profile.id),
      { onSuccess: (answer) => onDone(answer, profiles) },
    );
  };

  return (
    <DialogBody>
      <DialogTitle>Delete app profiles</DialogTitle>
      <DialogContent className={styles.content}>
        {inUse.length ? (
          <MessageBar intent="error" layout="multiline">
            <MessageBarBody>
              <MessageBarTitle>
                {inUse.length === 1 ? 'This app profile is in use and cannot be deleted' : 'These app profiles are in use and cannot be deleted'}
              </MessageBarTitle>
              <ul className={styles.list}>
                {inUse.map((profile) => (
                  <li key={profile.id}>
                    {inUseText(profile)}{' '}
                    <AppLink to={`/settings/users?appProfile=${encodeURIComponent(profile.id)}`}>
                      See who uses “{profile.name}”
                    </AppLink>
                  </li>
                ))}
              </ul>
              Remove those users and groups in User management first.
            </MessageBarBody>
          </MessageBar>
        ) : null}
        {deletable.length ? (
          <>
            <Text>
              {deletable.length === 1 ? 'This app profile will be deleted' : 'These app profiles will be deleted'}, with
              their connection to the tenant. This cannot be undone:
            </Text>
            <ul className={styles.list}>
              {deletable.map((profile) => (
                <li key={profile.id}>{profile.name}</li>
              ))}
            </ul>
          </>
        ) : null}
        <ErrorBar error={remove.error} />
      </DialogContent>
      <DialogActions>
        {deletable.length ? (
          <Button appearance="primary" className={danger.button} onClick={onDelete} disabled={remove.isPending}>
            Delete
          </Button>
        ) : null}
        <Button onClick={onClose}>{deletable.length ? 'Cancel' : 'Close'}</Button>
      </DialogActions>
    </DialogBody>
  );
}

/** "“Second” is used by 1 Microsoft 365 user and 2 groups in User management." */
function inUseText(profile: AppProfile): string {
  return `“${profile.name}” is used by ${usersAndGroups(profile.inUse, 'Microsoft 365 user')} in User management.`;
}
