/**
 * The state every screen shares, kept live from the main process's events:
 * app info, terminal, queue and connectivity, printer, the newest revoke of
 * each order, deadline warnings. One subscription for the whole window.
 * Events reach the window only while someone is signed in at it, so
 * `refresh` (called on sign-in) reads everything it can again.
 */
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { OpenOperationView } from '../../main/ipc/contract';
import {
  call,
  pos,
  type AppInfo,
  type EventPayload,
  type PrinterStatusView,
  type QueueStatusView,
  type RevokeView,
  type TerminalStatus,
} from './bridge';

export type Warning = EventPayload<'revoke.warning'>;

export interface Live {
  info: AppInfo | null;
  terminal: TerminalStatus | null;
  /** The counter's queue: every kind's open operations (revoke, refund, pay) summed, and the online flag. */
  queue: QueueStatusView | null;
  printer: PrinterStatusView | null;
  /** Newest known revoke per order sn (from events and call results). */
  revokes: Record<string, RevokeView>;
  warnings: Warning[];
  /** Bumped on every print job change, so receipt and job views refetch. */
  printTick: number;
  /** Bumped on every revoke change (the open-operations list refetches). */
  revokeTick: number;
  /** Every open money operation of every kind (the 待处理 pill and its list). */
  openOperations: OpenOperationView[];
  setTerminal(status: TerminalStatus): void;
  setQueue(status: QueueStatusView): void;
  setPrinter(status: PrinterStatusView): void;
  noteRevoke(revoke: RevokeView): void;
  dismissWarning(revokeId: number): void;
  refresh(): Promise<void>;
}

const RANK: Record<RevokeView['state'], number> = {
  sending: 1,
  queued: 2,
  pending: 2,
  needs_attention: 3,
  revoked: 4,
  rejected: 4,
  expired: 4,
};

/** The newer of two views of an order's revoke: a later revoke, a later update, or (same instant) the further state. */
export function newerRevoke(a: RevokeView | null | undefined, b: RevokeView | null | undefined): RevokeView | null {
  if (!a) return b ?? null;
  if (!b) return a;
  if (a.id !== b.id) return a.id > b.id ? a : b;
  if (a.updatedAt !== b.updatedAt) return a.updatedAt > b.updatedAt ? a : b;
  return RANK[b.state] >= RANK[a.state] ? b : a;
}

export const LiveContext = createContext<Live | null>(null);

export function useLiveContext(): Live {
  const live = useContext(LiveContext);
  if (!live) throw new Error('LiveContext missing');
  return live;
}

const REFRESH_MS = 30_000;

export function useLive(): Live {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [terminal, setTerminal] = useState<TerminalStatus | null>(null);
  const [queue, setQueue] = useState<QueueStatusView | null>(null);
  const [printer, setPrinter] = useState<PrinterStatusView | null>(null);
  const [revokes, setRevokes] = useState<Record<string, RevokeView>>({});
  const [warnings, setWarnings] = useState<Warning[]>([]);
  const [printTick, setPrintTick] = useState(0);
  const [revokeTick, setRevokeTick] = useState(0);
  const [openOperations, setOpenOperations] = useState<OpenOperationView[]>([]);

  const noteRevoke = useCallback((r: RevokeView) => {
    setRevokes((m) => {
      const next = newerRevoke(m[r.orderSn], r);
      return next === m[r.orderSn] ? m : { ...m, [r.orderSn]: next! };
    });
  }, []);

  // One read at a time; an update while one is on its way reads again after it.
  const reading = useRef<'idle' | 'busy' | 'again'>('idle');
  const readOpen = useCallback(async () => {
    if (reading.current !== 'idle') {
      reading.current = 'again';
      return;
    }
    reading.current = 'busy';
    const r = await call((p) => p.operationsOpen());
    if (r.ok) setOpenOperations(r.value);
    const again = (reading.current as string) === 'again';
    reading.current = 'idle';
    if (again) void readOpen();
  }, []);

  // Bumped by every queue.changed: a queue.status answer awaited across one may be older than the event, so it is dropped.
  const queueEvents = useRef(0);
  // Also what the events would have kept fresh: the main process sends them only while someone is signed in
  // at this window (main/ipc/access.ts EVENT_ACCESS), so the screen reads them again on sign-in (App) and on the timer.
  const refresh = useCallback(async () => {
    const seen = queueEvents.current;
    const open = readOpen();
    const [i, t, q] = await Promise.all([call((p) => p.appInfo()), call((p) => p.terminalStatus()), call((p) => p.queueStatus())]);
    if (i.ok) setInfo(i.value);
    if (t.ok) setTerminal(t.value);
    if (q.ok && queueEvents.current === seen) setQueue(q.value);
    await open;
  }, [readOpen]);

  useEffect(() => {
    void refresh();
    void call((p) => p.printerStatus()).then((r) => r.ok && setPrinter(r.value));
    const bridge = pos();
    const offs = [
      bridge.on('revoke.updated', (r) => {
        // Read by `npm run bench` (an update reaches the screen first by this event or by the call's answer).
        performance.mark(`revoke:update:${r.state}`);
        noteRevoke(r);
        setRevokeTick((n) => n + 1);
        void readOpen();
        // A finished revoke has no deadline left to warn about.
        if (r.state === 'revoked' || r.state === 'rejected' || r.state === 'expired') setWarnings((ws) => ws.filter((w) => w.revoke.id !== r.id));
      }),
      bridge.on('revoke.warning', (w) => setWarnings((ws) => [...ws.filter((x) => x.revoke.id !== w.revoke.id), w])),
      // The whole counter's queue (main/operations/signals.ts CounterQueue), whichever kind moved: it replaces the last.
      bridge.on('queue.changed', (q) => {
        queueEvents.current++;
        setQueue(q);
      }),
      bridge.on('connectivity.changed', (c) => setQueue((q) => (q ? { ...q, online: c.online } : q))),
      bridge.on('printer.changed', (s) => setPrinter((p) => ({ uri: p?.uri ?? '', state: s.status, detail: s.detail }))),
      bridge.on('print.updated', () => setPrintTick((n) => n + 1)),
      bridge.on('refund.updated', () => void readOpen()),
      bridge.on('payment.updated', () => void readOpen()),
    ];
    // The business day turns over and the check-in ages even when nothing happens.
    const timer = window.setInterval(() => void refresh(), REFRESH_MS);
    return () => {
      window.clearInterval(timer);
      for (const off of offs) off();
    };
  }, [refresh, noteRevoke, readOpen]);

  return {
    info,
    terminal,
    queue,
    printer,
    revokes,
    warnings,
    printTick,
    revokeTick,
    openOperations,
    setTerminal,
    setQueue,
    setPrinter,
    noteRevoke,
    dismissWarning: (revokeId) => setWarnings((ws) => ws.filter((w) => w.revoke.id !== revokeId)),
    refresh,
  };
}
