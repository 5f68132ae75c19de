import { Button } from '@fluentui/react-components';
import type { FormEvent, ReactNode } from 'react';
import { ApiError, errorMessage } from '../api/client';
import type { FieldErrors } from '../forms';
import { inWords } from '../forms';
import { ErrorBar } from './Feedback';
import { useFormStyles } from './PublicLayout';

/**
 * The frame of the public forms (sign in, sign up, activate): the message bar for what belongs to no field, the
 * fields, the one main button and the links below it.
 */
export function FormShell({
  onSubmit,
  error,
  submitLabel,
  busy,
  children,
  footer,
}: {
  onSubmit: () => void;
  /** An error that belongs to no field. */
  error?: unknown;
  submitLabel: string;
  busy?: boolean;
  children: ReactNode;
  footer?: ReactNode;
}) {
  const styles = useFormStyles();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit();
  };
  return (
    <form className={styles.form} onSubmit={submit} noValidate>
      <ErrorBar error={error} />
      {children}
      <Button appearance="primary" type="submit" disabled={busy}>
        {submitLabel}
      </Button>
      {footer}
    </form>
  );
}

/**
 * Splits what is wrong between a form's fields and its message bar: the browser's own checks (all at once) and,
 * after a send, the server's answer (a 400 naming one of the form's fields goes on that field, in words).
 */
export function splitErrors<Field extends string>(
  labels: Record<Field, string>,
  local: FieldErrors<Field>,
  serverError: unknown,
): { banner: unknown; on: (field: Field) => string | undefined } {
  const field =
    serverError instanceof ApiError && serverError.field && serverError.field in labels
      ? (serverError.field as Field)
      : undefined;
  return {
    banner: field ? null : (serverError ?? null),
    on: (name) =>
      local[name] ?? (field === name ? inWords(errorMessage(serverError), name, labels[name]) : undefined),
  };
}
