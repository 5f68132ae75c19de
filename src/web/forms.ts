// The public forms' rules, checked in the browser before sending so every problem shows at once, next to its field,
// in words (the server checks again and has the last word).

export type FieldErrors<Field extends string> = Partial<Record<Field, string>>;

/** The server's password rules (src/server/security/passwords.ts), shown before anyone types. */
export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_RULES = `At least ${PASSWORD_MIN_LENGTH} characters. Not a common password, and not your name or email.`;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/**
 * The server's one rule for names (src/server/http/schemas.ts, NAME_PATTERN): everyday punctuation is welcome,
 * only control characters and the markup characters < and > are refused.
 */
const NAME = /^[^\p{Cc}\p{Cs}\u2028\u2029\u200E\u200F\u202A-\u202E\u2066-\u2069<>]+$/u;

export function emailProblem(email: string): string | undefined {
  const value = email.trim();
  if (!value) return 'Enter your email address.';
  if (value.length > 254 || !EMAIL.test(value)) return 'Enter an email address such as name@example.com.';
  return undefined;
}

export function newPasswordProblem(password: string): string | undefined {
  if (!password) return 'Enter a password.';
  if (password.length < PASSWORD_MIN_LENGTH) return `The password needs at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (password.length > 256) return 'The password can have at most 256 characters.';
  return undefined;
}

const NAMES = {
  organization: { label: 'organization name', empty: 'Enter the name of your organization.' },
  profile: { label: 'profile name', empty: 'Enter a profile name.' },
} as const;

/** What is wrong with a name shown to people (an organization's, an app profile's), by the server's one rule for names. */
export function nameProblem(name: string, of: keyof typeof NAMES): string | undefined {
  const { label, empty } = NAMES[of];
  const value = name.trim();
  if (!value) return empty;
  if (value.length > 100) return `The ${label} can have at most 100 characters.`;
  if (!NAME.test(value)) return `The ${label} cannot contain line breaks, tabs or other control characters, nor < or >.`;
  return undefined;
}

/** Only the fields that have a problem. */
function present<Field extends string>(errors: Record<Field, string | undefined>): FieldErrors<Field> {
  return Object.fromEntries(Object.entries(errors).filter(([, message]) => message)) as FieldErrors<Field>;
}

export function checkSignIn(form: { email: string; password: string }): FieldErrors<'email' | 'password'> {
  return present({ email: emailProblem(form.email), password: form.password ? undefined : 'Enter your password.' });
}

export function checkSignUp(form: {
  organizationName: string;
  email: string;
  password: string;
}): FieldErrors<'organizationName' | 'email' | 'password'> {
  return present({
    organizationName: nameProblem(form.organizationName, 'organization'),
    email: emailProblem(form.email),
    password: newPasswordProblem(form.password),
  });
}

export function checkActivation(form: { password: string; confirm: string }): FieldErrors<'password' | 'confirm'> {
  const password = newPasswordProblem(form.password);
  return present({
    password,
    confirm: !password && form.password !== form.confirm ? 'The passwords do not match.' : undefined,
  });
}

/**
 * A field error from the server in words: its validation messages start with the field's internal name
 * ("organizationName: must not be empty"), which becomes the field's label ("Organization name must not be empty.").
 */
export function inWords(message: string, field: string, label: string): string {
  const prefix = `${field}: `;
  if (!message.startsWith(prefix)) return message;
  const rest = message.slice(prefix.length).trim();
  return `${label} ${rest}${/[.!?]$/.test(rest) ? '' : '.'}`;
}
