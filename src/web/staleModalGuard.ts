// Fluent's modal dialogs (through Tabster's modalizer) set aria-hidden="true" on #root while a dialog or drawer is
// open. When an open modal is unmounted by a route change (for example "New app profile" in the Add new user
// drawer), the attribute can stay behind (microsoft/fluentui#35139), which hides the whole page from assistive
// technology. This guard removes it again once no modal is open any more.

const SETTLE_MS = 400;

function modalOpen(): boolean {
  return document.querySelector('[aria-modal="true"]') !== null;
}

export function installStaleModalGuard(root: HTMLElement): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = () => {
    if (!modalOpen() && root.getAttribute('aria-hidden') === 'true') root.removeAttribute('aria-hidden');
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(check, SETTLE_MS);
  };
  const observer = new MutationObserver(schedule);
  observer.observe(document.body, { childList: true });
  observer.observe(root, { attributes: true, attributeFilter: ['aria-hidden'] });
}
