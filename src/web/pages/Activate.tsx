import { Button, Field, Input } from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { ApiError } from '../api/client';
import { useActivate } from '../api/hooks';
import { AppLink } from '../components/AppLink';
import { ErrorBar, Notice } from '../components/Feedback';
import { PublicLayout, useFormStyles } from '../components/PublicLayout';

export function ActivatePage() {
  const styles = useFormStyles();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const activate = useActivate();
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [mismatch, setMismatch] = useState<string | undefined>();

  const passwordError =
    activate.error instanceof ApiError && activate.error.field === 'password' ? activate.error.message : undefined;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (password !== confirm) {
      setMismatch('The passwords do not match.');
      return;
    }
    setMismatch(undefined);
    activate.mutate({ token, password }, { onSuccess: () => navigate('/signin?activated=1', { replace: true }) });
  };

  return (
    <PublicLayout title="Activate your account">
      {token ? null : (
        <Notice intent="error">This activation link is incomplete. Open the link from your invitation again.</Notice>
      )}
      <form className={styles.form} onSubmit={onSubmit} noValidate>
        <ErrorBar error={activate.error && !passwordError ? activate.error : null} />
        <Field label="New password" validationMessage={passwordError}>
          <Input
            type="password"
            value={password}
            onChange={(_, d) => setPassword(d.value)}
            autoComplete="new-password"
          />
        </Field>
        <Field label="Confirm password" validationMessage={mismatch}>
          <Input type="password" value={confirm} onChange={(_, d) => setConfirm(d.value)} autoComplete="new-password" />
        </Field>
        <Button appearance="primary" type="submit" disabled={activate.isPending || !token}>
          Activate
        </Button>
        <AppLink to="/signin">Sign in</AppLink>
      </form>
    </PublicLayout>
  );
}
