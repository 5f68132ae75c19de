import { Button, Divider, Field, Input, Link } from '@fluentui/react-components';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { keys, useChooseSignIn, useSignIn, useSignInChoices } from '../api/hooks';
import { AppLink } from '../components/AppLink';
import { ErrorBar, Loading, Notice } from '../components/Feedback';
import { FormShell, splitErrors } from '../components/FormShell';
import { PublicLayout, useFormStyles } from '../components/PublicLayout';
import { checkSignIn, type FieldErrors } from '../forms';
import { safeNextPath, signInErrorMessage } from '../outcomes';

export function SignInPage() {
  const [params] = useSearchParams();
  const errorCode = params.get('error');
  const choose = params.get('choose') === '1';
  return (
    <PublicLayout title="Sign in to Tenantgate">
      {params.get('activated') === '1' ? (
        <Notice intent="success">Your account is activated. Sign in with your email and new password.</Notice>
      ) : null}
      {errorCode ? <Notice intent="error">{signInErrorMessage(errorCode)}</Notice> : null}
      {choose ? <PartnerChoices /> : <SignInForm next={safeNextPath(params.get('next'))} />}
    </PublicLayout>
  );
}

const SIGN_IN_FIELDS = { email: 'Email', password: 'Password' };

function SignInForm({ next }: { next: string }) {
  const navigate = useNavigate();
  const signIn = useSignIn();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [problems, setProblems] = useState<FieldErrors<'email' | 'password'>>({});
  const errors = splitErrors(SIGN_IN_FIELDS, problems, signIn.error);

  const onSubmit = () => {
    const found = checkSignIn({ email, password });
    setProblems(found);
    if (Object.keys(found).length) return;
    signIn.mutate({ email, password }, { onSuccess: () => navigate(next, { replace: true }) });
  };

  return (
    <FormShell
      onSubmit={onSubmit}
      error={errors.banner}
      submitLabel="Sign in"
      busy={signIn.isPending}
      footer={
        <>
          <Divider>or</Divider>
          <Link href="/auth/microsoft/sign-in">Sign in with Microsoft 365</Link>
          <span>
            New partner? <AppLink to="/signup">Create an account</AppLink>
          </span>
        </>
      }
    >
      <Field label="Email" validationMessage={errors.on('email')}>
        <Input type="email" value={email} onChange={(_, d) => setEmail(d.value)} autoComplete="username" />
      </Field>
      <Field label="Password" validationMessage={errors.on('password')}>
        <Input
          type="password"
          value={password}
          onChange={(_, d) => setPassword(d.value)}
          autoComplete="current-password"
        />
      </Field>
    </FormShell>
  );
}

function PartnerChoices() {
  const styles = useFormStyles();
  const navigate = useNavigate();
  const client = useQueryClient();
  const choices = useSignInChoices(true);
  const choose = useChooseSignIn();

  const onChoose = (partnerId: string) => {
    choose.mutate(partnerId, {
      onSuccess: async () => {
        await client.invalidateQueries({ queryKey: keys.session });
        navigate('/', { replace: true });
      },
    });
  };

  if (choices.isPending) return <Loading />;
  if (choices.isError) return <ErrorBar error={choices.error} />;
  return (
    <div className={styles.form}>
      <span>Your Microsoft 365 account can sign in to several partners. Choose one:</span>
      <ErrorBar error={choose.error} />
      {choices.data.choices.map((choice) => (
        <Button key={choice.partnerId} onClick={() => onChoose(choice.partnerId)} disabled={choose.isPending}>
          {choice.partnerName}
        </Button>
      ))}
      <AppLink to="/signin">Sign in another way</AppLink>
    </div>
  );
}
