import { Title2 } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import { RoundTripOutcome } from './RoundTripOutcome';
import { usePageTitle } from './usePageTitle';

/**
 * The top of a signed-in page: its heading, then the outcome of a Microsoft round trip that brought the browser
 * here (messages come under the title they belong to, never above it). Names the browser tab after the page.
 */
export function PageHeader({ title, heading }: { title: string; heading?: ReactNode }) {
  usePageTitle(title);
  return (
    <>
      <Title2 as="h1">{heading ?? title}</Title2>
      <RoundTripOutcome />
    </>
  );
}
