/** Confirmations and JSON views as <dialog> elements (never window.confirm), keyboard-usable. */
import { el } from './dom.js';

export interface ConfirmSpec {
  title: string;
  detail?: string;
  danger?: boolean;
  /** A value the action needs (a title, a session id, JSON). */
  input?: { label: string; value: string; multiline?: boolean };
}

/** Shows the dialog; on confirm runs `action` with the input's value, reporting its failure in the dialog. */
export function confirmAction(spec: ConfirmSpec, action: (value: string | undefined) => Promise<void>): void {
  const field = spec.input
    ? spec.input.multiline
      ? el('textarea', { 'aria-label': spec.input.label })
      : el('input', { type: 'text', 'aria-label': spec.input.label })
    : undefined;
  if (field) field.value = spec.input!.value;
  const error = el('p', { class: 'error', role: 'alert' });
  const cancel = el('button', { type: 'button' }, 'Cancel');
  const ok = el('button', { type: 'button', class: spec.danger ? 'danger' : '', 'data-confirm': 'true' }, spec.danger ? 'Yes, do it' : 'Confirm');
  const dialog = el(
    'dialog',
    { 'aria-label': spec.title },
    el('h3', {}, spec.title),
    spec.detail ? el('p', {}, spec.detail) : null,
    field ? el('label', {}, spec.input!.label, el('br'), field) : null,
    error,
    el('div', { class: 'buttons' }, cancel, ok),
  );
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  ok.addEventListener('click', () => {
    ok.disabled = true;
    action(field?.value)
      .then(() => dialog.close())
      .catch((e: unknown) => {
        error.textContent = e instanceof Error ? e.message : String(e);
        ok.disabled = false;
      });
  });
  document.body.append(dialog);
  dialog.showModal();
  (field ?? cancel).focus();
}

export function showJson(title: string, text: string): void {
  const area = el('textarea', { readonly: '', 'aria-label': title });
  area.value = text;
  const close = el('button', { type: 'button' }, 'Close');
  const dialog = el('dialog', { 'aria-label': title }, el('h3', {}, title), area, el('div', { class: 'buttons' }, close));
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  area.select();
}
