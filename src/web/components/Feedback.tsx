import { MessageBar, MessageBarBody, MessageBarTitle, Spinner } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import { errorMessage } from '../api/client';

export function Loading() {
  return <Spinner label="Loading" size="small" labelPosition="after" />;
}

export function ErrorBar({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <MessageBar intent="error">
      <MessageBarBody>
        {title ? <MessageBarTitle>{title}</MessageBarTitle> : null}
        {errorMessage(error)}
      </MessageBarBody>
    </MessageBar>
  );
}

export function Notice({
  intent,
  children,
}: {
  intent: 'success' | 'error' | 'warning' | 'info';
  children: ReactNode;
}) {
  return (
    <MessageBar intent={intent} layout="multiline">
      <MessageBarBody>{children}</MessageBarBody>
    </MessageBar>
  );
}
