/** Directory roles a fixture user may hold (names as the Entra admin center shows them). */
export interface DirectoryRoleTemplate {
  displayName: string;
  roleTemplateId: string;
  description: string;
}

export const GLOBAL_ADMINISTRATOR = 'Global Administrator';
export const PRIVILEGED_ROLE_ADMINISTRATOR = 'Privileged Role Administrator';

export const DIRECTORY_ROLES: readonly DirectoryRoleTemplate[] = [
  {
    displayName: GLOBAL_ADMINISTRATOR,
    roleTemplateId: '62e90394-69f5-4237-9190-012177145e10',
    description: 'Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.',
  },
  {
    // Not a Global Administrator, yet allowed to grant tenant-wide consent: the case the portal's own
    // Global Administrator check exists for.
    displayName: PRIVILEGED_ROLE_ADMINISTRATOR,
    roleTemplateId: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
    description: 'Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.',
  },
  {
    displayName: 'User Administrator',
    roleTemplateId: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
    description: 'Can manage all aspects of users and groups, including resetting passwords for limited admins.',
  },
  {
    displayName: 'Global Reader',
    roleTemplateId: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
    description: 'Can read everything that a Global Administrator can, but not update anything.',
  },
];

export const ROLE_BY_NAME = new Map(DIRECTORY_ROLES.map((r) => [r.displayName, r]));
