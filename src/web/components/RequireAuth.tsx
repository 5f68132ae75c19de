import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { useSession } from '../api/hooks';
import { ErrorBar, Loading, Notice } from './Feedback';

export function RequireAuth({ children }: { children: ReactNode }) {
  const session = useSession();
  const location = useLocation();
  if (session.isPending) return <Loading />;
  if (session.isError) return <ErrorBar error={session.error} />;
  if (!session.data) {
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={`/signin?next=${encodeURIComponent(next)}`} replace />;
  }
  return <>{children}</>;
}

export function AdminOnly({ children }: { children: ReactNode }) {
  const session = useSession();
  if (session.data?.user.role !== 'administrator') {
    return <Notice intent="error">You do not have access to Settings.</Notice>;
  }
  return <>{children}</>;
}
