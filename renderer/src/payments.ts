/**
 * The payments this window follows, kept at the window's level (App) so that
 * leaving the 收款 screen (Escape, a tab, 新收款) loses none of them: every
 * open payment (pay.listOpen, then `payment.updated`), each payment this
 * window took or showed until its outcome, and the one the 收款 screen shows.
 * Events are followed while the screen is away, so a payment that ended
 * meanwhile shows its outcome (收款成功 / 未收款（钱款未扣） / …) when the
 * screen comes back. A reload keeps the ids (localStorage): the open ones come
 * back from pay.listOpen, and one that ended in the meantime is read again
 * (pay.queryAgain on a payment that is no longer open only reads its row).
 * A payment leaves the list once it has ended and the cashier moved on
 * (新收款 after its outcome, or 知道了).
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { PaymentView } from '../../main/ipc/contract';
import { call, pos } from './bridge';

export type { PaymentView } from '../../main/ipc/contract';

const STORE_KEY = 'upay-pos.payments';
/** Ids kept across a reload at most (the newest); older followed payments are the day report's. */
const KEEP = 20;
/** A followed payment older than this is not brought back after a restart. */
const KEEP_MS = 12 * 3_600_000;

const OPEN_OUTCOMES: ReadonlySet<PaymentView['outcome']> = new Set(['pending', 'needs_attention', 'awaiting_customer']);

/** Whether the payment's outcome is still open (money may still move): 正在确认, a QR waiting, needs_attention. */
export function isOpenPayment(p: Pick<PaymentView, 'outcome'>): boolean {
  return OPEN_OUTCOMES.has(p.outcome);
}

/** The newer of two views of one payment: an ended payment never goes back to open (an event or answer arriving late). */
function newerView(had: PaymentView | undefined, next: PaymentView): PaymentView {
  if (!had) return next;
  if (!isOpenPayment(had) && isOpenPayment(next)) return had;
  return next;
}

interface Stored {
  currentId: number | null;
  ids: number[];
}

function readStored(): Stored {
  try {
    const raw = window.localStorage.getItem(STORE_KEY);
    if (!raw) return { currentId: null, ids: [] };
    const v = JSON.parse(raw) as Partial<Stored>;
    const ids = Array.isArray(v.ids) ? v.ids.filter((n): n is number => Number.isInteger(n) && n > 0) : [];
    const currentId = Number.isInteger(v.currentId) && (v.currentId as number) > 0 ? (v.currentId as number) : null;
    return { currentId, ids };
  } catch {
    return { currentId: null, ids: [] };
  }
}

function writeStored(s: Stored): void {
  try {
    window.localStorage.setItem(STORE_KEY, JSON.stringify(s));
  } catch {
    // Storage unavailable: the payments are followed for this page's life (pay.listOpen still brings the open ones back).
  }
}

export interface Payments {
  /** Followed payments, newest first: every open one and each ended one the cashier has not moved on from. */
  list: PaymentView[];
  /** The payment the 收款 screen shows; null: the keypad's start. */
  current: PaymentView | null;
  currentId: number | null;
  /** The open payments have been read at least once since sign-in (before that the start screen says it is reading). */
  loaded: boolean;
  /** A fresh view (pay.request's or pay.queryAgain's answer). */
  note(p: PaymentView): void;
  /** Shows that payment on the 收款 screen (null: the keypad's start); one not followed yet is looked up. */
  show(id: number | null): void;
  /** The cashier moved on (新收款): the payment leaves the screen; an ended one also leaves the list (an open one stays listed). */
  dismiss(id: number): void;
  /** Reads pay.listOpen (and each followed payment that ended while nobody listened); the open ones, or null when the read failed. */
  refresh(): Promise<PaymentView[] | null>;
  /** Ids of every payment seen so far (to find one a failed pay.request may have left). */
  seen(): ReadonlySet<number>;
  /** The followed payments and the last few seen otherwise, as they are now (not as of the last render). */
  now(): PaymentView[];
  /** The id on screen as it is now (not as of the last render). */
  currentNow(): number | null;
}

export function usePayments(signedIn: boolean): Payments {
  /** The followed payments by id: the truth is this ref (read between renders); `version` makes the window render again. */
  const byId = useRef<ReadonlyMap<number, PaymentView>>(new Map());
  const [, setVersion] = useState(0);
  /** What the page before a reload followed (read once). */
  const [stored] = useState(readStored);
  const [currentId, setCurrentIdState] = useState<number | null>(stored.currentId);
  const currentNow = useRef(currentId);
  const setCurrentId = (id: number | null) => {
    currentNow.current = id;
    setCurrentIdState(id);
  };
  const [loaded, setLoaded] = useState(false);
  /** Ids followed before a reload that this page has not read back yet. */
  const pendingIds = useRef<number[]>(stored.ids);
  const seenIds = useRef(new Set<number>());
  /** Ended payments the cashier moved on from: a late event does not bring them back. */
  const dismissed = useRef(new Set<number>());

  /** The newest views of every payment seen (followed or not), a few: a refused request's row may show up only here. */
  const recent = useRef(new Map<number, PaymentView>());

  const merge = useCallback((views: readonly PaymentView[], follow: (p: PaymentView) => boolean) => {
    let next: Map<number, PaymentView> | null = null;
    for (const p of views) {
      seenIds.current.add(p.id);
      const before = recent.current.get(p.id);
      recent.current.delete(p.id);
      recent.current.set(p.id, newerView(before, p));
      if (recent.current.size > KEEP) recent.current.delete(recent.current.keys().next().value!);
      const had = (next ?? byId.current).get(p.id);
      if (!had && (!follow(p) || dismissed.current.has(p.id))) continue;
      const v = newerView(had, p);
      if (v === had) continue;
      next ??= new Map(byId.current);
      next.set(p.id, v);
    }
    if (!next) return;
    byId.current = next;
    setVersion((n) => n + 1);
  }, []);

  const note = useCallback((p: PaymentView) => merge([p], () => true), [merge]);

  // Events, whether or not the 收款 screen is on: a followed payment is updated; a new open one joins.
  useEffect(() => pos().on('payment.updated', (p) => merge([p], isOpenPayment)), [merge]);

  const reading = useRef<Promise<PaymentView[] | null> | null>(null);
  const refresh = useCallback((): Promise<PaymentView[] | null> => {
    if (reading.current) return reading.current;
    const run = async (): Promise<PaymentView[] | null> => {
      const res = await call((p) => p.payListOpen());
      if (!res.ok) return null;
      merge(res.value, () => true);
      // Followed before a reload and not open any more: ended meanwhile. Read each once (its row only: it is final).
      const open = new Set(res.value.map((p) => p.id));
      const ended = pendingIds.current.filter((id) => !open.has(id) && !byId.current.has(id));
      pendingIds.current = [];
      const found = await Promise.all(ended.map((id) => call((p) => p.payQueryAgain({ paymentId: id }))));
      const now = Date.now();
      merge(
        found.flatMap((r) => (r.ok && now - r.value.requestedAt < KEEP_MS ? [r.value] : [])),
        () => true,
      );
      setLoaded(true);
      return res.value;
    };
    reading.current = run().finally(() => {
      reading.current = null;
    });
    return reading.current;
  }, [merge]);

  // On sign-in (and after a reload): the open payments, before the 收款 screen needs them.
  useEffect(() => {
    if (signedIn) void refresh();
    else setLoaded(false);
  }, [signedIn, refresh]);

  const list = [...byId.current.values()].sort((a, b) => b.id - a.id);

  // Kept across a reload: the followed ids and the one on screen.
  const ids = [...new Set([...list.map((p) => p.id), ...pendingIds.current])].slice(0, KEEP);
  const key = `${currentId}|${ids.join(',')}`;
  useEffect(() => writeStored({ currentId, ids }), [key]);

  const show = useCallback(
    (id: number | null) => {
      setCurrentId(id);
      if (id === null) return;
      dismissed.current.delete(id);
      // One not followed yet (the 待处理 list's entry): read it, from the open ones or (ended) its own row.
      if (!byId.current.has(id)) {
        void refresh().then(async (open) => {
          if (!open || byId.current.has(id)) return;
          const res = await call((p) => p.payQueryAgain({ paymentId: id }));
          if (res.ok) merge([res.value], () => true);
        });
      }
    },
    [refresh, merge],
  );

  const dismiss = useCallback((id: number) => {
    const p = byId.current.get(id);
    if (currentNow.current === id) setCurrentId(null);
    if (!p || isOpenPayment(p)) return;
    dismissed.current.add(id);
    const next = new Map(byId.current);
    next.delete(id);
    byId.current = next;
    setVersion((n) => n + 1);
  }, []);

  return {
    list,
    current: currentId === null ? null : (byId.current.get(currentId) ?? null),
    currentId,
    loaded,
    note,
    show,
    dismiss,
    refresh,
    seen: () => seenIds.current,
    now: () => [...new Map([...recent.current, ...byId.current]).values()],
    currentNow: () => currentNow.current,
  };
}
