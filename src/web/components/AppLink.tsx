import { Link, type LinkProps } from '@fluentui/react-components';
import type { MouseEvent, ReactNode } from 'react';
import { useHref, useNavigate } from 'react-router';

/** A Fluent link that navigates inside the app without a page load. */
export function AppLink({
  to,
  children,
  className,
  appearance,
}: {
  to: string;
  children: ReactNode;
  className?: string;
  appearance?: LinkProps['appearance'];
}) {
  const navigate = useNavigate();
  const href = useHref(to);
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <Link href={href} onClick={onClick} className={className} appearance={appearance}>
      {children}
    </Link>
  );
}
