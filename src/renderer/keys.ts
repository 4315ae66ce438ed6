/**
 * Keyboard helpers shared by the worklist, the viewer and the review panel: a key typed into a
 * field (a comment, a threshold) is text, never a command.
 */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
}
