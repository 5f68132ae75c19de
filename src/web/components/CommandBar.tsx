import {
  Menu,
  MenuItem,
  MenuList,
  MenuPopover,
  MenuTrigger,
  Overflow,
  OverflowItem,
  Toolbar,
  ToolbarButton,
  makeStyles,
  mergeClasses,
  useIsOverflowItemVisible,
  useOverflowMenu,
  useRestoreFocusTarget,
} from '@fluentui/react-components';
import { MoreHorizontalRegular } from '@fluentui/react-icons';
import type { ReactElement } from 'react';
import { useDangerStyles } from './danger';
import { announceNextAction } from './nextAction';

export interface Command {
  id: string;
  label: string;
  icon: ReactElement;
  onClick: () => void;
  disabled?: boolean;
  /** Destructive (remove, delete): shown in the danger style. */
  danger?: boolean;
}

const useStyles = makeStyles({
  toolbar: { width: '100%', minWidth: 0, flexWrap: 'nowrap', overflow: 'hidden', boxSizing: 'border-box' },
  command: { whiteSpace: 'nowrap', flexShrink: 0 },
});

/**
 * A list page's command bar. Commands that do not fit move into a "More actions" menu, so a narrow window never
 * cuts a button in half. Disabled commands stay focusable, so the dialog a command opened can hand focus back to it
 * even when the action left nothing selected. Each command is a restore-focus target: a closing dialog hands focus
 * to the last one focused (an opener inside a dialog must be one too, or focus leaves that dialog).
 */
export function CommandBar({
  label,
  commands: given,
  onCommand,
}: {
  label: string;
  commands: Command[];
  /** Runs before any command (a page clears the message of its previous action). */
  onCommand?: () => void;
}) {
  const commands = given.map((command) => ({
    ...command,
    onClick: () => {
      announceNextAction();
      onCommand?.();
      command.onClick();
    },
  }));
  const styles = useStyles();
  const danger = useDangerStyles();
  const restoreFocusTarget = useRestoreFocusTarget();
  return (
    <Overflow padding={48}>
      <Toolbar aria-label={label} className={styles.toolbar}>
        {commands.map((command) => (
          <OverflowItem key={command.id} id={command.id}>
            <ToolbarButton
              {...restoreFocusTarget}
              icon={command.icon}
              disabledFocusable={command.disabled}
              onClick={command.onClick}
              className={mergeClasses(styles.command, command.danger && danger.command)}
            >
              {command.label}
            </ToolbarButton>
          </OverflowItem>
        ))}
        <MoreCommands commands={commands} />
      </Toolbar>
    </Overflow>
  );
}

function MoreCommands({ commands }: { commands: Command[] }) {
  const { ref, isOverflowing } = useOverflowMenu<HTMLButtonElement>();
  const restoreFocusTarget = useRestoreFocusTarget();
  if (!isOverflowing) return null;
  return (
    <Menu>
      <MenuTrigger disableButtonEnhancement>
        <ToolbarButton {...restoreFocusTarget} ref={ref} icon={<MoreHorizontalRegular />} aria-label="More actions" />
      </MenuTrigger>
      <MenuPopover>
        <MenuList>
          {commands.map((command) => (
            <HiddenCommand key={command.id} command={command} />
          ))}
        </MenuList>
      </MenuPopover>
    </Menu>
  );
}

function HiddenCommand({ command }: { command: Command }) {
  const visible = useIsOverflowItemVisible(command.id);
  const danger = useDangerStyles();
  if (visible) return null;
  return (
    <MenuItem
      icon={command.icon}
      disabled={command.disabled}
      onClick={command.onClick}
      className={command.danger ? danger.command : undefined}
    >
      {command.label}
    </MenuItem>
  );
}
