/**
 * A large touch PIN pad (keys of 4.5rem and more); the keyboard works too:
 * digits, Backspace, Enter. The PIN is shown as dots only and never leaves
 * this component except through `onChange` / `onSubmit`.
 */
import { useEffect, useRef } from 'preact/hooks';
import { useI18n } from '../i18n';

export const PIN_MAX = 8;
export const PIN_MIN = 4;

export function PinPad(props: {
  value: string;
  onChange: (pin: string) => void;
  /** Enter or the OK key, with the PIN as typed (it may be ahead of the last render); absent: no submit key (the surrounding dialog confirms). */
  onSubmit?: (pin: string) => void;
  disabled?: boolean;
  label: string;
  /** Identifies the pad in a page with two (tests, styling). */
  name?: string;
}) {
  const { t } = useI18n();
  const { value, onSubmit, disabled } = props;
  // Keys can arrive faster than renders and effects (a fast typist, a burst right after the pad is enabled):
  // each one builds on the last and sees the props of the last render, through these refs set while rendering.
  const latest = useRef(value);
  latest.current = value;
  const current = useRef(props);
  current.current = props;

  const press = (key: string) => {
    const p = current.current;
    if (p.disabled) return;
    const v = latest.current;
    const set = (next: string) => {
      latest.current = next;
      p.onChange(next);
    };
    if (key === 'back') set(v.slice(0, -1));
    else if (key === 'ok') {
      if (v.length >= PIN_MIN) p.onSubmit?.(v);
    } else if (v.length < PIN_MAX) set(v + key);
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (current.current.disabled || e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
      const key = /^[0-9]$/.test(e.key) ? e.key : e.key === 'Backspace' ? 'back' : e.key === 'Enter' && current.current.onSubmit ? 'ok' : null;
      if (key === null || (key === 'ok' && latest.current.length < PIN_MIN)) return;
      e.preventDefault();
      press(key);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
    // Registered once: everything it reads comes through the refs.
  }, []);

  const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'back', '0', ...(onSubmit ? ['ok'] : [])];
  return (
    <div class="pinpad" data-pinpad={props.name ?? 'pin'}>
      <p class="pinpad__label">{props.label}</p>
      <p class="pinpad__dots" aria-live="polite" aria-label={t('pin.entered', { n: value.length })} data-pin-length={value.length}>
        {Array.from({ length: Math.max(PIN_MIN, value.length) }, (_, i) => (
          <span key={i} class={`pinpad__dot${i < value.length ? ' pinpad__dot--on' : ''}`} />
        ))}
      </p>
      <div class="pinpad__keys">
        {keys.map((k) => (
          <button
            type="button"
            key={k}
            class={`pinpad__key${k === 'ok' ? ' pinpad__key--ok' : k === 'back' ? ' pinpad__key--back' : ''}`}
            data-pin-key={k}
            disabled={disabled || (k === 'ok' && value.length < PIN_MIN)}
            aria-label={k === 'back' ? t('pin.back') : k === 'ok' ? t('pin.ok') : k}
            onClick={() => press(k)}
          >
            {k === 'back' ? t('pin.back') : k === 'ok' ? t('pin.ok') : k}
          </button>
        ))}
      </div>
    </div>
  );
}
