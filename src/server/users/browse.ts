import type { SecretBox } from '../security/secret-box';
import { FieldError } from '../http/errors';
import { GraphError } from '../microsoft/graph';
import type { DirectoryEntry, UserServiceDeps } from './types';
import type { UserSupport } from './support';

const BROWSE_PAGE_SIZE = 25;

/** The browse dialog's reads of the tenant, with cursors sealed to the partner, the profile and the list. */
export function createDirectoryBrowser(deps: Pick<UserServiceDeps, 'box' | 'store'>, support: UserSupport) {
  const { usableProfile, throughGraph } = support;
  return {
    /** The browse dialog: users or groups of the profile's tenant, straight from Graph, a page at a time. */
    async browse(partnerId: string, profileId: string, query: { type: 'user' | 'group'; search?: string; cursor?: string }): Promise<{ items: DirectoryEntry[]; nextCursor: string | null }> {
      const profile = await usableProfile(partnerId, profileId);
      const cursorAad = `browse-cursor:${partnerId}:${profileId}:${query.type}`;
      const link = query.cursor ? openCursor(deps.box, query.cursor, cursorAad) : undefined;
      const page = await throughGraph(profile, async (graph) => {
        try {
          if (link || query.search) return await graph.searchDirectory(query.type, query.search ?? '', { top: BROWSE_PAGE_SIZE, cursor: link });
          const collection = query.type === 'user' ? 'users' : 'groups';
          const first = await graph.get<{ value?: Record<string, unknown>[]; '@odata.nextLink'?: string }>(`/${collection}`, {
            query: { $select: query.type === 'user' ? 'id,displayName,mail,userPrincipalName' : 'id,displayName,mail', $top: BROWSE_PAGE_SIZE, $orderby: 'displayName' },
          });
          return { items: (first.value ?? []) as never[], nextCursor: first['@odata.nextLink'] };
        } catch (error) {
          if (error instanceof GraphError && (error.code === 'untrustedLink' || error.code === 'invalidLink')) throw invalidCursor();
          throw error;
        }
      });
      const objects = page.items as { id: string; displayName?: string | null; mail?: string | null; userPrincipalName?: string }[];
      // Those the partner already added (themselves, or a person through an added group) are marked, so nobody adds them twice.
      const added = await deps.store.existingObjects(partnerId, profile.tenant_id, objects.map((o) => o.id.toLowerCase()));
      const items = objects.map((o) => ({
        id: o.id,
        displayName: o.displayName ?? o.mail ?? o.userPrincipalName ?? o.id,
        email: o.mail ?? o.userPrincipalName ?? null,
        kind: query.type,
        added: added.has(o.id.toLowerCase()),
      }));
      // Sealed and bound to this partner, profile and list: a caller can only hand back what Graph gave us.
      return { items, nextCursor: page.nextCursor ? deps.box.seal(page.nextCursor, cursorAad) : null };
    },

  };
}

function openCursor(box: SecretBox, cursor: string, aad: string): string {
  try {
    return box.open(cursor, aad);
  } catch {
    throw invalidCursor();
  }
}

const invalidCursor = () => new FieldError('cursor', 'The cursor is not valid for this list; start again from the first page.', 'INVALID_CURSOR');
