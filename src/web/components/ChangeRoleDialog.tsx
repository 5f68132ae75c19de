import {
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Text,
} from '@fluentui/react-components';
import { useState } from 'react';
import { useChangeUserRole } from '../api/hooks';
import type { Role, User } from '../api/models';
import { RoleField } from './RoleField';
import { useLastValue } from './useLastValue';
import { ErrorBar } from './Feedback';

/** "Change role": Administrator or Member for one user or group entry. */
export function ChangeRoleDialog({ user, onClose, onDone }: { user: User | null; onClose: () => void; onDone: (user: User) => void }) {
  const shown = useLastValue(user);
  return (
    <Dialog open={user !== null} onOpenChange={(_, d) => !d.open && onClose()}>
      <DialogSurface>{shown ? <ChangeRoleForm key={shown.id} user={shown} onClose={onClose} onDone={onDone} /> : null}</DialogSurface>
    </Dialog>
  );
}

function ChangeRoleForm({ user, onClose, onDone }: { user: User; onClose: () => void; onDone: (user: User) => void }) {
  const [role, setRole] = useState<Role>(user.role);
  const change = useChangeUserRole();
  return (
    <DialogBody>
      <DialogTitle>Change role</DialogTitle>
      <DialogContent>
        <Text>
          {user.kind === 'group'
            ? `Members of ${user.email} get this role when they next sign in.`
            : `${user.email} gets this role at once, also in sessions already open.`}
        </Text>
        <RoleField value={role} onChange={setRole} />
        <ErrorBar error={change.error} />
      </DialogContent>
      <DialogActions>
        <Button appearance="primary" disabled={change.isPending} onClick={() => change.mutate({ id: user.id, role }, { onSuccess: onDone })}>
          OK
        </Button>
        <Button onClick={onClose}>Cancel</Button>
      </DialogActions>
    </DialogBody>
  );
}
