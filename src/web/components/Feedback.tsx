import { Button, MessageBar, MessageBarActions, MessageBarBody, MessageBarTitle, Spinner } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import { errorMessage } from '../api/client';

export function Loading() {
  return <Spinner label="Loading" size="small" labelPosition="after" />;
}

/** An error in words; with `onRetry` (a list that failed to load) it offers Retry instead of a page reload. */
export function ErrorBar({ error, title, onRetry }: { error: unknown; title?: string; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <MessageBar intent="error" layout="multiline">
      <MessageBarBody>
        {title ? <MessageBarTitle>{title}</MessageBarTitle> : null}
        {errorMessage(error)}
      </MessageBarBody>
      {onRetry ? (
        <MessageBarActions>
          <Button onClick={onRetry}>Retry</Button>
        </MessageBarActions>
      ) : null}
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
