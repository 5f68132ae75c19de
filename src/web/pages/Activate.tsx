import { Body1, Field, Input } from '@fluentui/react-components';
import { useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { useActivate, useActivationCheck } from '../api/hooks';
import { AppLink } from '../components/AppLink';
import { Loading, Notice } from '../components/Feedback';
import { errorMessage } from '../api/client';
import { FormShell, splitErrors } from '../components/FormShell';
import { PublicLayout } from '../components/PublicLayout';
import { PASSWORD_RULES, checkActivation, type FieldErrors } from '../forms';

const ACTIVATE_FIELDS = { password: 'New password', confirm: 'Confirm password' };

export function ActivatePage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const activate = useActivate();
  const check = useActivationCheck(token);
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [problems, setProblems] = useState<FieldErrors<'password' | 'confirm'>>({});
  const errors = splitErrors(ACTIVATE_FIELDS, problems, activate.error);

  const onSubmit = () => {
    const found = checkActivation({ password, confirm });
    setProblems(found);
    if (Object.keys(found).length) return;
    activate.mutate({ token, password }, { onSuccess: () => navigate('/signin?activated=1', { replace: true }) });
  };

  return (
    <PublicLayout title="Activate your account">
      {token ? null : (
        <Notice intent="error">This activation link is incomplete. Open the link from your invitation again.</Notice>
      )}
      {check.isPending && token ? <Loading /> : null}
      {check.isError ? <Notice intent="error">{errorMessage(check.error)}</Notice> : null}
      {check.isSuccess ? <Body1>Choose a password for {check.data.email}.</Body1> : null}
      {check.isSuccess ? (
        <FormShell
          onSubmit={onSubmit}
          error={errors.banner}
          submitLabel="Activate"
          busy={activate.isPending}
          footer={<AppLink to="/signin">Sign in</AppLink>}
        >
          <Field label="New password" hint={PASSWORD_RULES} validationMessage={errors.on('password')}>
            <Input type="password" value={password} onChange={(_, d) => setPassword(d.value)} autoComplete="new-password" />
          </Field>
          <Field label="Confirm password" validationMessage={errors.on('confirm')}>
            <Input type="password" value={confirm} onChange={(_, d) => setConfirm(d.value)} autoComplete="new-password" />
          </Field>
        </FormShell>
      ) : (
        <AppLink to="/signin">Sign in</AppLink>
      )}
    </PublicLayout>
  );
}
