import { describe, expect, it } from 'vitest';
import {
  appendEmails,
  blockedProfileMessage,
  cloudLabel,
  lapsesText,
  loginHostHint,
  parseEmails,
  signInTypeLabel,
  usersAndGroups,
} from '../../../src/web/format';

const now = new Date('2025-03-01T12:00:00Z');
const inDays = (days: number) => new Date(now.getTime() + days * 86_400_000).toISOString();

describe('lapsesText', () => {
  it('rounds partial days up and uses the singular for one day', () => {
    expect(lapsesText(inDays(5.2), now)).toBe('Lapses in 6 days if unused');
    expect(lapsesText(inDays(1), now)).toBe('Lapses in 1 day if unused');
    expect(lapsesText(inDays(0.1), now)).toBe('Lapses in 1 day if unused');
  });

  it('says today once the moment has passed, and nothing without a date', () => {
    expect(lapsesText(inDays(-1), now)).toBe('Lapses today if unused');
    expect(lapsesText(null, now)).toBeNull();
    expect(lapsesText('not a date', now)).toBeNull();
  });
});

describe('email lists', () => {
  it('splits on lines, commas, semicolons and spaces, dropping duplicates', () => {
    expect(parseEmails('a@x.com, b@x.com;c@x.com\n\nA@x.com  d@x.com')).toEqual([
      'a@x.com',
      'b@x.com',
      'c@x.com',
      'd@x.com',
    ]);
    expect(parseEmails(' \n ;, ')).toEqual([]);
  });

  it('appends browsed addresses on new lines without repeating', () => {
    expect(appendEmails('', ['a@x.com'])).toBe('a@x.com');
    expect(appendEmails('a@x.com\n', ['A@x.com', 'b@x.com'])).toBe('a@x.com\nb@x.com');
    expect(appendEmails('a@x.com', ['a@x.com'])).toBe('a@x.com');
  });
});

describe('labels and validation', () => {
  it('labels clouds and sign-in types', () => {
    expect(cloudLabel('global')).toBe('Global');
    expect(cloudLabel('usgov')).toBe('U.S. Government');
    expect(loginHostHint('login.microsoftonline.us')).toBe('Your customer’s Microsoft login URL ends with .us');
    expect(loginHostHint('login.partner.microsoftonline.cn')).toBe('Your customer’s Microsoft login URL ends with .cn');
    expect(signInTypeLabel({ signInType: 'local', kind: 'user' })).toBe('Local user');
    expect(signInTypeLabel({ signInType: 'microsoft365', kind: 'user' })).toBe('Microsoft 365 user');
    expect(signInTypeLabel({ signInType: 'microsoft365', kind: 'group' })).toBe('Microsoft 365 group');
  });

  it('counts users and groups, each in its number, leaving out a kind with none', () => {
    expect(usersAndGroups({ users: 1, groups: 2 }, 'Microsoft 365 user')).toBe('1 Microsoft 365 user and 2 groups');
    expect(usersAndGroups({ users: 3, groups: 1 })).toBe('3 users and 1 group');
    expect(usersAndGroups({ users: 0, groups: 1 })).toBe('1 group');
    expect(usersAndGroups({ users: 2, groups: 0 })).toBe('2 users');
    expect(usersAndGroups({ users: 0, groups: 0 })).toBe('0 users');
  });

  it('explains a blocked deletion, preferring the server message', () => {
    expect(blockedProfileMessage({ name: 'Contoso', inUse: { users: 3, groups: 1 } })).toBe(
      '“Contoso” cannot be deleted: used by 3 Microsoft 365 users and 1 group in User management.',
    );
    expect(blockedProfileMessage({ name: 'Contoso', message: 'In use.' })).toBe('In use.');
  });
});
