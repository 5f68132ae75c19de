import { Field, Radio, RadioGroup } from '@fluentui/react-components';
import type { Role } from '../api/models';

/** The "Role" choice of a portal user: Administrator (reaches Settings) or Member. */
export function RoleField({ value, onChange }: { value: Role; onChange: (role: Role) => void }) {
  return (
    <Field label="Role">
      <RadioGroup value={value} onChange={(_, d) => onChange(d.value as Role)}>
        <Radio value="administrator" label="Administrator" />
        <Radio value="member" label="Member" />
      </RadioGroup>
    </Field>
  );
}
