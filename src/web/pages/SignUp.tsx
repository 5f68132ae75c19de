import { Button, Field, Input } from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { formErrors } from '../api/client';
import { useSignUp } from '../api/hooks';
import { AppLink } from '../components/AppLink';
import { ErrorBar } from '../components/Feedback';
import { PublicLayout, useFormStyles } from '../components/PublicLayout';

export function SignUpPage() {
  const styles = useFormStyles();
  const navigate = useNavigate();
  const signUp = useSignUp();
  const [organizationName, setOrganizationName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');

  const errors = formErrors(signUp.error, ['organizationName', 'email', 'password']);
  const fieldError = errors.on;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    signUp.mutate({ organizationName, email, password }, { onSuccess: () => navigate('/', { replace: true }) });
  };

  return (
    <PublicLayout title="Create your partner account">
      <form className={styles.form} onSubmit={onSubmit} noValidate>
        <ErrorBar error={errors.banner} />
        <Field label="Organization name" validationMessage={fieldError('organizationName')}>
          <Input value={organizationName} onChange={(_, d) => setOrganizationName(d.value)} autoComplete="organization" />
        </Field>
        <Field label="Email" validationMessage={fieldError('email')}>
          <Input type="email" value={email} onChange={(_, d) => setEmail(d.value)} autoComplete="email" />
        </Field>
        <Field label="Password" validationMessage={fieldError('password')}>
          <Input
            type="password"
            value={password}
            onChange={(_, d) => setPassword(d.value)}
            autoComplete="new-password"
          />
        </Field>
        <Button appearance="primary" type="submit" disabled={signUp.isPending}>
          Sign up
        </Button>
        <span>
          Already have an account?{' '}
          <AppLink to="/signin">Sign in</AppLink>
        </span>
      </form>
    </PublicLayout>
  );
}
