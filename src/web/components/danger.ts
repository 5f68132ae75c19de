import { makeStyles, tokens } from '@fluentui/react-components';

/** The danger style for destructive buttons: red, so "Delete" never looks like "OK". */
export const useDangerStyles = makeStyles({
  command: {
    color: tokens.colorStatusDangerForeground1,
    ':hover': { color: tokens.colorStatusDangerForeground2 },
    ':hover:active': { color: tokens.colorStatusDangerForeground3 },
    '&:disabled, &[aria-disabled="true"]': { color: tokens.colorNeutralForegroundDisabled },
  },
  button: {
    backgroundColor: tokens.colorStatusDangerBackground3,
    color: tokens.colorNeutralForegroundOnBrand,
    ':hover': { backgroundColor: tokens.colorStatusDangerBackground3Hover, color: tokens.colorNeutralForegroundOnBrand },
    ':hover:active': {
      backgroundColor: tokens.colorStatusDangerBackground3Pressed,
      color: tokens.colorNeutralForegroundOnBrand,
    },
  },
});
