/**
 * THE glossary: one word per field and per state, in zh-CN and en, for the
 * screen, the receipts and the docs (docs/glossary.md is checked against it).
 * A cashier reads the same word for the same thing on the screen and on paper.
 */

export interface Term {
  zh: string;
  en: string;
}

/** Fields of an order and of a money operation. */
export const FIELDS = {
  sn: { zh: '收钱吧订单号', en: 'Upay order no.' },
  clientSn: { zh: '商户订单号', en: 'Merchant order no.' },
  tradeNo: { zh: '支付通道流水号', en: 'Channel trade no.' },
  terminal: { zh: '终端号', en: 'Terminal' },
  payway: { zh: '支付方式', en: 'Paid with' },
  amount: { zh: '订单金额', en: 'Order amount' },
  /** What is left of the payment after revokes and refunds (the gateway's net amount). */
  net: { zh: '剩余金额', en: 'Remaining' },
  refunded: { zh: '已退金额', en: 'Refunded' },
  refundable: { zh: '剩余可退', en: 'Refundable left' },
  refundAmount: { zh: '退款金额', en: 'Refund amount' },
  revokeAmount: { zh: '撤销金额', en: 'Revoked amount' },
  /** A payment taken at the counter (the 收款 screen's amount and the 收款凭证's). */
  payAmount: { zh: '收款金额', en: 'Amount' },
  /** What a reversal (冲正) gave back to the customer. */
  returned: { zh: '已退回', en: 'Returned' },
  reversedAt: { zh: '冲正时间', en: 'Reversed at' },
  paidAt: { zh: '支付时间', en: 'Paid at' },
  revokedAt: { zh: '撤销时间', en: 'Revoked at' },
  refundedAt: { zh: '退款时间', en: 'Refunded at' },
  requestNo: { zh: '退款序列号', en: 'Refund no.' },
  cashier: { zh: '收银员', en: 'Cashier' },
  revokedBy: { zh: '撤销人', en: 'Revoked by' },
  refundedBy: { zh: '退款人', en: 'Refunded by' },
  approvedBy: { zh: '审批人', en: 'Approved by' },
  approverPin: { zh: '主管 PIN', en: 'Supervisor PIN' },
  subject: { zh: '商品', en: 'Item' },
  printedAt: { zh: '打印时间', en: 'Printed at' },
  businessDay: { zh: '营业日', en: 'Business day' },
  store: { zh: '门店', en: 'Store' },
} as const satisfies Record<string, Term>;

export type Field = keyof typeof FIELDS;

/** Kinds of money operation. */
export const KINDS = {
  revoke: { zh: '撤销', en: 'Revoke' },
  refund: { zh: '退款', en: 'Refund' },
  pay: { zh: '收款', en: 'Payment' },
} as const satisfies Record<string, Term>;

export type OperationKind = keyof typeof KINDS;

/** Every state of every kind, as a person reads it (screen, receipt, day report). */
export const OPERATION_STATES: { readonly [K in OperationKind]: Readonly<Record<string, Term>> } = {
  revoke: {
    sending: { zh: '撤销发送中', en: 'Revoke sending' },
    queued: { zh: '撤销排队中', en: 'Revoke queued' },
    pending: { zh: '撤销确认中', en: 'Confirming revoke' },
    revoked: { zh: '已撤销', en: 'Revoked' },
    rejected: { zh: '撤销未成功', en: 'Revoke refused' },
    needs_attention: { zh: '撤销需人工处理', en: 'Revoke needs attention' },
    expired: { zh: '撤销已过期', en: 'Revoke expired' },
  },
  refund: {
    sending: { zh: '退款发送中', en: 'Refund sending' },
    queued: { zh: '退款排队中', en: 'Refund queued' },
    pending: { zh: '退款确认中', en: 'Confirming refund' },
    refunded: { zh: '已退款', en: 'Refunded' },
    rejected: { zh: '退款未成功', en: 'Refund refused' },
    needs_attention: { zh: '退款需人工处理', en: 'Refund needs attention' },
  },
  pay: {
    sending: { zh: '收款发送中', en: 'Payment sending' },
    pending: { zh: '收款确认中', en: 'Confirming payment' },
    canceling: { zh: '正在冲正', en: 'Cancelling payment' },
    paid: { zh: '已收款', en: 'Paid' },
    failed: { zh: '收款未成功', en: 'Payment failed' },
    canceled: { zh: '收款已冲正', en: 'Payment cancelled' },
    needs_attention: { zh: '收款需人工处理', en: 'Payment needs attention' },
  },
};

/** The order's own statuses (the gateway's), as a person reads them. */
export const ORDER_STATUSES: Readonly<Record<string, Term>> = {
  PAID: { zh: '已支付', en: 'Paid' },
  CANCELED: { zh: '已撤销', en: 'Revoked' },
  REFUNDED: { zh: '已全额退款', en: 'Refunded in full' },
  PARTIAL_REFUNDED: { zh: '部分退款', en: 'Partly refunded' },
  PAY_CANCELED: { zh: '支付已取消', en: 'Payment cancelled' },
  CREATED: { zh: '未支付', en: 'Not paid' },
  CANCEL_INPROGRESS: { zh: '撤销处理中', en: 'Revoke in progress' },
  REFUND_INPROGRESS: { zh: '退款处理中', en: 'Refund in progress' },
  PAY_ERROR: { zh: '支付异常', en: 'Payment error' },
  REFUND_ERROR: { zh: '退款异常', en: 'Refund error' },
  CANCEL_ERROR: { zh: '撤销异常', en: 'Revoke error' },
};

/** A state's words; an unknown state is shown as it is (never blank). */
export function stateTerm(kind: OperationKind, state: string): Term {
  return OPERATION_STATES[kind][state] ?? { zh: state, en: state };
}

export function orderStatusTerm(status: string): Term {
  return ORDER_STATUSES[status] ?? { zh: status, en: status };
}
