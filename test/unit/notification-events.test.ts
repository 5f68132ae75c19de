import { describe, expect, it } from 'vitest';
import { checksFailing, refreshLapseWarning } from '../../src/server/notifications/events';

const DAY = 24 * 3600_000;
const LAPSE = 90 * DAY;
const profile = { partnerId: 'p1', id: 'a1', name: 'Contoso', tenantId: 't1' };
const lastRefresh = '2026-01-01T00:00:00.000Z';
const at = (days: number) => new Date(Date.parse(lastRefresh) + days * DAY);

describe('lapse warnings', () => {
  it('warns 14 days before the 90-day lapse from day 76, 3 days before from day 87, and not after the lapse', () => {
    expect(refreshLapseWarning(profile, lastRefresh, LAPSE, at(75.99))).toBeNull();
    expect(refreshLapseWarning(profile, lastRefresh, LAPSE, at(76))?.data).toMatchObject({ daysLeft: 14, lapsesAt: '2026-04-01T00:00:00.000Z' });
    expect(refreshLapseWarning(profile, lastRefresh, LAPSE, at(86.99))?.data).toMatchObject({ daysLeft: 14 });
    expect(refreshLapseWarning(profile, lastRefresh, LAPSE, at(87))?.data).toMatchObject({ daysLeft: 3 });
    expect(refreshLapseWarning(profile, lastRefresh, LAPSE, at(89.9))?.title).toBe('Contoso: authorization lapses in 3 days');
    expect(refreshLapseWarning(profile, lastRefresh, LAPSE, at(90))).toBeNull();
  });

  it('keys each warning by the refresh it counts from, so a later refresh starts over', () => {
    const first = refreshLapseWarning(profile, lastRefresh, LAPSE, at(80))!;
    const later = refreshLapseWarning(profile, '2026-02-01T00:00:00.000Z', LAPSE, new Date(Date.parse('2026-02-01T00:00:00.000Z') + 80 * DAY))!;
    expect(first.key).not.toBe(later.key);
    expect(refreshLapseWarning(profile, lastRefresh, LAPSE, at(81))!.key).toBe(first.key);
  });
});

describe('checks failing', () => {
  it('alerts only once checks have failed for 24 hours since the last successful refresh', () => {
    expect(checksFailing(profile, lastRefresh, 'HTTP 503', at(0.99))).toBeNull();
    expect(checksFailing(profile, lastRefresh, 'HTTP 503', at(1))).toMatchObject({ key: 'checks-failing:a1', episode: 'open' });
  });
});
