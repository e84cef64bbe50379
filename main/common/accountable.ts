/** Who did a money operation and who approved it (main/common/accountable.ts). */
export interface Accountable {
  operatorId: number | null;   // null: the CLI or a host app without operators
  operatorName: string;        // shown as 撤销人 / 退款人
  approverId: number | null;
  approverName: string | null; // shown as 审批人
}
