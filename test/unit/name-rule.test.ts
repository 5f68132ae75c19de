import { describe, expect, it } from 'vitest';
import { nameSchema } from '../../src/server/http/schemas';
import { nameProblem } from '../../src/web/forms';

// One rule for names, applied twice: by the server (nameSchema) and by the web app before sending (nameProblem).
// Every case below must get the same answer from both.

const ACCEPTED = [
  'Contoso – EMEA', // en dash
  'O’Brien & Partners', // typographic apostrophe
  'Fabrikam!',
  'Müller & Söhne (EMEA)',
  'Northwind [test] {2026} #1: 50% off?',
  'Tailspin — “Toys” ‘R’ Us',
  'A/B; C+D = E*F ~ G^H | I$',
  '株式会社テスト',
  'Café 🚀 Team',
  'Woodgrove — Bank, Inc.',
  ` ${'a'.repeat(100)} `,
];

const REFUSED = [
  'Contoso <script>',
  'a > b',
  'Line\nbreak',
  'Tab\there',
  'Null\u0000byte',
  'Bell\u0007',
  'Delete\u007f',
  'Line\u2028separator',
  'Paragraph\u2029separator',
  'Right-to-left\u202eoverride',
  'Isolate\u2066here\u2069',
  '   ',
  '',
  'a'.repeat(101),
];

const serverAccepts = (name: string) => nameSchema(100).safeParse(name).success;

describe('the one rule for names', () => {
  it.each(ACCEPTED)('accepts everyday punctuation on both sides: %s', (name) => {
    expect(serverAccepts(name)).toBe(true);
    expect(nameProblem(name, 'profile')).toBeUndefined();
  });

  it.each(REFUSED)('refuses control characters, markup, empty and too long names on both sides: %j', (name) => {
    expect(serverAccepts(name)).toBe(false);
    expect(nameProblem(name, 'profile')).toBeDefined();
  });

  it('says in words what is refused', () => {
    expect(nameProblem('Tab\there', 'profile')).toBe('The profile name cannot contain line breaks, tabs or other control characters, nor < or >.');
    const refused = nameSchema(100).safeParse('Contoso <b>');
    expect(refused.success ? '' : refused.error.issues[0]?.message).toMatch(/control characters .* < and >/);
  });
});
