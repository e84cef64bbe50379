/** Small shared pieces: error envelope, money statement, detail rows, dialog. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { ErrorView } from '../bridge';
import { formatCny } from '../format';
import { useI18n } from '../i18n';

/** An error envelope as a cashier reads it: the message in the current language, the code, and the gateway's own words when there are some. */
export function ErrorNotice({ error, onDismiss }: { error: ErrorView; onDismiss?: () => void }) {
  const { t, pick } = useI18n();
  const gatewayCode = typeof error.details?.gatewayCode === 'string' ? error.details.gatewayCode : null;
  const gatewayMessage = typeof error.details?.gatewayMessage === 'string' ? error.details.gatewayMessage : null;
  return (
    <div class="notice notice--error" role="alert" data-error-code={error.code}>
      <p class="notice__message">{pick(error.messageZh, error.message)}</p>
      <p class="notice__code">
        {t('error.code')}
          {t('colon')}
          <code>{error.code}</code>
      </p>
      {(gatewayCode || gatewayMessage) && (
        <p class="notice__gateway">
          {t('outcome.gateway')}
          {t('colon')}
          <span lang="zh-CN">{gatewayMessage ?? ''}</span> {gatewayCode && <code>{gatewayCode}</code>}
        </p>
      )}
      {onDismiss && (
        <button type="button" class="btn btn--quiet" onClick={onDismiss}>
          {t('error.dismiss')}
        </button>
      )}
    </div>
  );
}

export type MoneyState = 'returned' | 'unchanged' | 'unchangedYet' | 'confirming';

/** The one sentence that tells the cashier whether money moved, and how much when it did. */
export function MoneyStatement({ state, amountCents }: { state: MoneyState; amountCents?: number }) {
  const { t } = useI18n();
  return (
    <p class={`money money--${state}`} data-money={state} data-money-cents={amountCents}>
      {t(`money.${state}` as const)}
      {amountCents !== undefined && state === 'returned' && <strong class="money__amount"> {formatCny(amountCents)}</strong>}
    </p>
  );
}

export function Rows({ rows }: { rows: Array<[label: string, value: ComponentChildren] | false | null | undefined> }) {
  return (
    <dl class="rows">
      {rows.map(
        (row) =>
          row && (
            <div class="rows__row" key={row[0]}>
              <dt>{row[0]}</dt>
              <dd>{row[1]}</dd>
            </div>
          ),
      )}
    </dl>
  );
}

export function Spinner() {
  return <span class="spinner" aria-hidden="true" />;
}

/**
 * A native <dialog> shown as modal while mounted (the browser makes the rest
 * of the page inert, Tab stays inside); Escape (its cancel event) calls
 * `onCancel`. `onOpen` runs once it is shown (to place the focus).
 */
export function Modal(props: {
  class: string;
  labelledBy: string;
  onCancel: () => void;
  onOpen?: () => void;
  onKeyDown?: (e: KeyboardEvent) => void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (!dialog.open) dialog.showModal();
    props.onOpen?.();
    return () => {
      if (dialog.open) dialog.close();
    };
    // Once, on mount: the dialog lives as long as the component.
  }, []);
  return (
    <dialog
      ref={ref}
      class={props.class}
      aria-labelledby={props.labelledBy}
      onCancel={(e) => {
        e.preventDefault();
        props.onCancel();
      }}
      onKeyDown={props.onKeyDown}
    >
      {props.children}
    </dialog>
  );
}

/**
 * A modal confirmation on the native <dialog>: focus starts on the confirm
 * button, Enter confirms, Escape (the dialog's cancel event) cancels, and Tab
 * stays inside (the browser makes the rest of the page inert).
 */
export function ConfirmDialog(props: {
  title: string;
  okLabel: string;
  cancelLabel: string;
  hint?: string;
  onOk: () => void;
  onCancel: () => void;
  children: ComponentChildren;
}) {
  const okRef = useRef<HTMLButtonElement>(null);
  const { onOk, onCancel } = props;
  return (
    <Modal
      class="dialog"
      labelledBy="dialog-title"
      onCancel={onCancel}
      onOpen={() => okRef.current?.focus()}
      onKeyDown={(e) => {
        // On a button Enter already clicks it; elsewhere in the dialog it confirms.
        if (e.key === 'Enter' && !(e.target instanceof HTMLButtonElement)) {
          e.preventDefault();
          onOk();
        }
      }}
    >
      <h2 id="dialog-title" class="dialog__title">
        {props.title}
      </h2>
      <div class="dialog__body">{props.children}</div>
      <div class="dialog__actions">
        <button type="button" class="btn btn--secondary btn--large" data-action="cancel" onClick={onCancel}>
          {props.cancelLabel}
        </button>
        <button type="button" ref={okRef} class="btn btn--danger btn--large" data-action="confirm" onClick={onOk}>
          {props.okLabel}
        </button>
      </div>
      {props.hint && <p class="dialog__hint">{props.hint}</p>}
    </Modal>
  );
}

const ICONS = {
  check: 'M5 12.5l4.5 4.5L19 7.5',
  cross: 'M6.5 6.5l11 11M17.5 6.5l-11 11',
  pause: 'M9 6v12M15 6v12',
  clock: 'M12 4a8 8 0 1 0 0.01 0M12 7.5V12l3 2',
  alert: 'M12 6v8M12 17.5v0.5',
  back: 'M15 5l-7 7 7 7',
  more: 'M5 12h.01M12 12h.01M19 12h.01',
  user: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8M4.5 20a7.5 7.5 0 0 1 15 0',
  printer: 'M7 9V4h10v5M7 17H5a1 1 0 0 1-1-1v-6a1 1 0 0 1 1-1h14a1 1 0 0 1 1 1v6a1 1 0 0 1-1 1h-2M7 14h10v6H7z',
} as const;

/** Outcome icons as SVG paths: no dependence on which symbol fonts a POS machine has. */
export function Icon({ name }: { name: keyof typeof ICONS }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={ICONS[name]} fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}
