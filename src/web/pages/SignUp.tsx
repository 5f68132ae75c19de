import { Field, Input } from '@fluentui/react-components';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { useSignUp } from '../api/hooks';
import { AppLink } from '../components/AppLink';
import { FormShell, splitErrors } from '../components/FormShell';
import { PublicLayout } from '../components/PublicLayout';
import { PASSWORD_RULES, checkSignUp, type FieldErrors } from '../forms';

const SIGN_UP_FIELDS = { organizationName: 'Organization name', email: 'Email', password: 'Password' };
type SignUpField = keyof typeof SIGN_UP_FIELDS;

export function SignUpPage() {
  const navigate = useNavigate();
  const signUp = useSignUp();
  const [organizationName, setOrganizationName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [problems, setProblems] = useState<FieldErrors<SignUpField>>({});
  const errors = splitErrors(SIGN_UP_FIELDS, problems, signUp.error);

  const onSubmit = () => {
    const found = checkSignUp({ organizationName, email, password });
    setProblems(found);
    if (Object.keys(found).length) return;
    signUp.mutate({ organizationName, email, password }, { onSuccess: () => navigate('/', { replace: true }) });
  };

  return (
    <PublicLayout title="Create your partner account">
      <FormShell
        onSubmit={onSubmit}
        error={errors.banner}
        submitLabel="Sign up"
        busy={signUp.isPending}
        footer={
          <span>
            Already have an account? <AppLink to="/signin">Sign in</AppLink>
          </span>
        }
      >
        <Field label="Organization name" validationMessage={errors.on('organizationName')}>
          <Input value={organizationName} onChange={(_, d) => setOrganizationName(d.value)} autoComplete="organization" />
        </Field>
        <Field label="Email" validationMessage={errors.on('email')}>
          <Input type="email" value={email} onChange={(_, d) => setEmail(d.value)} autoComplete="email" />
        </Field>
        <Field label="Password" hint={PASSWORD_RULES} validationMessage={errors.on('password')}>
          <Input type="password" value={password} onChange={(_, d) => setPassword(d.value)} autoComplete="new-password" />
        </Field>
      </FormShell>
    </PublicLayout>
  );
}
