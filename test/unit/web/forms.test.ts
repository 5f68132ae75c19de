import { describe, expect, it } from 'vitest';
import { checkActivation, checkSignIn, checkSignUp, inWords, nameProblem } from '../../../src/web/forms';

describe('the public forms’ checks', () => {
  it('reports every problem of the sign-up form at once, in words', () => {
    expect(checkSignUp({ organizationName: ' ', email: 'pat', password: 'short' })).toEqual({
      organizationName: 'Enter the name of your organization.',
      email: 'Enter an email address such as name@example.com.',
      password: 'The password needs at least 10 characters.',
    });
  });

  it('accepts a complete sign-up and names in other scripts', () => {
    expect(checkSignUp({ organizationName: 'Müller & Söhne GmbH', email: 'pat@example.com', password: 'violet-harbor-lantern-42' })).toEqual({});
    expect(checkSignUp({ organizationName: '株式会社テスト', email: 'pat@example.com', password: 'violet-harbor-lantern-42' })).toEqual({});
  });

  it('refuses markup in an organization name', () => {
    expect(checkSignUp({ organizationName: '<b>Acme</b>', email: 'pat@example.com', password: 'violet-harbor-lantern-42' }).organizationName).toMatch(/nor < or >/);
  });

  it('holds an app profile name to the same rule as the server, in its own words', () => {
    expect(nameProblem('   ', 'profile')).toBe('Enter a profile name.');
    expect(nameProblem(` ${'a'.repeat(100)} `, 'profile')).toBeUndefined();
    expect(nameProblem('a'.repeat(101), 'profile')).toBe('The profile name can have at most 100 characters.');
    expect(nameProblem('Contoso <script>', 'profile')).toBe('The profile name cannot contain line breaks, tabs or other control characters, nor < or >.');
    expect(nameProblem('Müller & Söhne (EMEA)', 'profile')).toBeUndefined();
  });

  it('asks for both sign-in fields together', () => {
    expect(Object.keys(checkSignIn({ email: '', password: '' }))).toEqual(['email', 'password']);
  });

  it('compares the activation passwords only once the first one is acceptable', () => {
    expect(checkActivation({ password: 'short', confirm: 'other' })).toEqual({ password: 'The password needs at least 10 characters.' });
    expect(checkActivation({ password: 'violet-harbor-lantern-42', confirm: 'violet-harbor-lantern-43' })).toEqual({ confirm: 'The passwords do not match.' });
  });

  it('turns a server message naming an internal field into words', () => {
    expect(inWords('organizationName: must not be empty', 'organizationName', 'Organization name')).toBe('Organization name must not be empty.');
    expect(inWords('This password is too easy to guess.', 'password', 'Password')).toBe('This password is too easy to guess.');
  });
});
