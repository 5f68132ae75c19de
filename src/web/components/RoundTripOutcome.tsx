import { MessageBar, MessageBarActions, MessageBarBody, Button } from '@fluentui/react-components';
import { DismissRegular } from '@fluentui/react-icons';
import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useAppProfiles } from '../api/hooks';
import { onNextAction } from './nextAction';
import { readRoundTripResult, roundTripOutcome, withoutRoundTripParams, type RoundTripResult } from '../outcomes';

/**
 * Shows the outcome of a Microsoft round trip (`?result=…`) once, then removes it from the URL
 * so a reload does not repeat it.
 */
export function RoundTripOutcome() {
  const [params, setParams] = useSearchParams();
  const [result, setResult] = useState<RoundTripResult | null>(() => readRoundTripResult(params));

  useEffect(() => {
    const incoming = readRoundTripResult(params);
    if (!incoming) return;
    setResult(incoming);
    setParams(withoutRoundTripParams(params), { replace: true });
  }, [params, setParams]);

  // Success messages and "already connected" name the profile they are about.
  useEffect(() => onNextAction(() => setResult(null)), []);

  const needsName = Boolean(result?.profileId) && (result?.result !== 'error' || result.code === 'TENANT_ALREADY_CONNECTED');
  const profiles = useAppProfiles(needsName);

  if (!result) return null;
  const profileName = profiles.data?.find((profile) => profile.id === result.profileId)?.name ?? null;
  const outcome = roundTripOutcome(result, profileName);
  return (
    <MessageBar intent={outcome.intent} layout="multiline">
      <MessageBarBody>{outcome.message}</MessageBarBody>
      <MessageBarActions
        containerAction={
          <Button
            aria-label="Dismiss"
            appearance="transparent"
            icon={<DismissRegular />}
            onClick={() => setResult(null)}
          />
        }
      />
    </MessageBar>
  );
}
