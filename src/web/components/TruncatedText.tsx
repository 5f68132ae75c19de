import { Tooltip, makeStyles, mergeClasses } from '@fluentui/react-components';
import { useRef, useState } from 'react';

const useStyles = makeStyles({
  base: { display: 'block', minWidth: 0, maxWidth: '100%', overflow: 'hidden' },
  oneLine: { whiteSpace: 'nowrap', textOverflow: 'ellipsis' },
  twoLines: {
    display: '-webkit-box',
    WebkitBoxOrient: 'vertical',
    WebkitLineClamp: '2',
    overflowWrap: 'anywhere',
  },
});

/**
 * Text of any length in a list cell: cut to one line (emails, times) or two (names) with an ellipsis; hovering
 * text that was cut shows all of it. The whole text stays in the page, so screen readers and search read it all.
 */
export function TruncatedText({ text, lines = 1, className }: { text: string; lines?: 1 | 2; className?: string }) {
  const styles = useStyles();
  const ref = useRef<HTMLSpanElement>(null);
  const [visible, setVisible] = useState(false);
  const cut = () => {
    const el = ref.current;
    return !!el && (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1);
  };
  return (
    <Tooltip
      content={text}
      relationship="inaccessible"
      visible={visible}
      onVisibleChange={(_, data) => setVisible(data.visible && cut())}
    >
      <span ref={ref} className={mergeClasses(styles.base, lines === 1 ? styles.oneLine : styles.twoLines, className)}>
        {text}
      </span>
    </Tooltip>
  );
}
