import { FieldError } from '../http/errors';
import { passwordWeakness } from '../security/passwords';

/** Refuses a weak password as a 400 naming the field (the rules live in security/passwords.ts). */
export function checkPasswordStrength(password: string, context: { email?: string; organizationName?: string } = {}, field = 'password'): void {
  const weakness = passwordWeakness(password, context);
  if (weakness) throw new FieldError(field, weakness.message, weakness.code);
}
