/**
 * The cashier's side of the order lock (store/open-operations.ts): a request
 * refused because another money operation of the order is open is told which
 * one, in zh-CN and en, before anything is sent.
 */
import { MONEY_KIND_EN, MONEY_KIND_ZH } from '../common/states';
import { PosError } from '../errors';
import type { Db } from '../store/db';
import { isOrderLocked, openOperationOn } from '../store/open-operations';

const STATE_ZH: Record<string, string> = { sending: '发送中', queued: '排队等待网络', pending: '正在确认结果', needs_attention: '结果待确认', canceling: '正在冲正' };

/** The refusal naming the order's open operation. */
export function orderBusy(db: Db, orderClientSn: string, orderSn: string | null): PosError {
  const open = openOperationOn(db, orderClientSn);
  const kind = open?.kind ?? 'operation';
  const state = open?.state ?? 'open';
  const zh = `此订单已有一笔进行中的${MONEY_KIND_ZH[kind] ?? '资金操作'}（编号 ${open?.opId ?? '?'}，${STATE_ZH[state] ?? state}）：在它结束前不能再发起撤销、退款或收款。请先处理该笔操作（可点击“再次查询”）。钱款未变动。`;
  const en = `This order already has an open ${MONEY_KIND_EN[kind] ?? kind} (#${open?.opId ?? '?'}, ${state}): no revoke, refund or payment can start on it until that one ends. Deal with it first (tap "Query again"). No money moved.`;
  return new PosError('OPERATION_OPEN', zh, en, { orderSn, clientSn: orderClientSn, openKind: open?.kind ?? null, openId: open?.opId ?? null, openState: open?.state ?? null });
}

/** Runs `insert` (a kind's write-ahead transaction); the lock's refusal becomes `orderBusy`. */
export function underOrderLock<T>(db: Db, order: { clientSn: string; sn: string | null }, insert: () => T): T {
  try {
    return insert();
  } catch (err) {
    if (isOrderLocked(err)) throw orderBusy(db, order.clientSn, order.sn);
    throw err;
  }
}
