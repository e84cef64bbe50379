/**
 * What the runtime's derived writes cost on the money path (`BENCH_ONLY=ablation`; informational, not in the
 * default run). Three runtimes of the same build, interleaved with the e2e row's floor operation by operation
 * (rotating which goes first):
 * - as is;
 * - "journal": every trigger that copies a money change elsewhere (the fleet export's event with its identity,
 *   payload, count and cap; the audit entry's fleet copy; the order change log) replaced by one trigger per
 *   money table that appends a four-column row to a journal. This is the hot path of the redesign the
 *   performance notes describe (derive the export, the audit copy and the change log after the commit), with
 *   the derivation itself left out: its cost would come on top;
 * - "none": those triggers dropped and nothing in their place: no head-office export, no audit copy and no
 *   change log at all, which other issues require. The bound of what any redesign of them can gain.
 * The schema changes are made to these bench runtimes' own files, for this measurement only.
 */
import type { Db } from '../../main/store/db';
import { nowMs, p50InfoRow, summarize, type Row } from '../support/bench-stats';

export type AblationKind = 'revoke' | 'refund' | 'pay';

/** One runtime of the ablation: its name, and its operation `i` (throws unless it ends in the kind's final state). */
export interface AblationSubject {
  name: 'as is' | 'journal' | 'none';
  run(i: number): Promise<void>;
}

const MONEY_TABLES = [
  ['revokes', 'revoke'],
  ['refunds', 'refund'],
  ['payments', 'pay'],
] as const;

/** The triggers that copy a money change elsewhere: into the fleet export or the order change log. */
function derivedTriggers(db: Db): string[] {
  const rows = db
    .prepare(
      `SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name IN ('revokes', 'refunds', 'payments', 'audit_log', 'orders')
         AND (sql LIKE '%INSERT INTO fleet_outbox%' OR sql LIKE '%UPDATE fleet_outbox%' OR sql LIKE '%INSERT INTO order_changes%')`,
    )
    .all() as Array<{ name: string }>;
  return rows.map((r) => r.name);
}

/** Makes a bench runtime's file the variant `name` (measurement only). */
export function ablate(db: Db, name: AblationSubject['name']): void {
  if (name === 'as is') return;
  for (const t of derivedTriggers(db)) db.exec(`DROP TRIGGER ${t}`);
  if (name === 'none') return;
  db.exec('CREATE TABLE ablation_journal (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, op_id INTEGER NOT NULL, state TEXT NOT NULL, at INTEGER NOT NULL)');
  for (const [table, kind] of MONEY_TABLES) {
    const row = `INSERT INTO ablation_journal (kind, op_id, state, at) VALUES ('${kind}', NEW.id, NEW.state, NEW.updated_at);`;
    db.exec(`CREATE TRIGGER ablation_${table}_insert AFTER INSERT ON ${table} BEGIN ${row} END`);
    db.exec(`CREATE TRIGGER ablation_${table}_state AFTER UPDATE OF state ON ${table} WHEN OLD.state IS NOT NEW.state BEGIN ${row} END`);
  }
}

const NOTES: Record<AblationSubject['name'], string> = {
  'as is': 'the runtime as it is, in the same rotation as the two variants below (test/bench/ablation.ts)',
  journal: 'the fleet event, audit copy and change-log triggers replaced by one four-column journal row per transition; the derivation after the commit not included',
  none: 'the fleet event, audit copy and change-log triggers dropped: no export, no audit copy, no change log (what other issues require); the bound of any redesign of them',
};

/** The three subjects and the floor, interleaved; one informational row per subject (p50 against the floor's p50). */
export async function benchAblation(
  kind: AblationKind,
  deps: { subjects: AblationSubject[]; floor: (i: number) => Promise<void>; n: number; warm: number; add: (row: Row) => void; details: Record<string, unknown> },
): Promise<void> {
  const samples = deps.subjects.map(() => [] as number[]);
  const floor: number[] = [];
  for (let i = 0; i < deps.n + deps.warm; i++) {
    // Each subject in turn against the floor, the subject's place in the rotation moving with i.
    for (let k = 0; k < deps.subjects.length; k++) {
      const j = (i + k) % deps.subjects.length;
      const s = deps.subjects[j]!;
      const sides = [
        { keep: samples[j]!, run: () => s.run(i) },
        { keep: floor, run: () => deps.floor(i * deps.subjects.length + k) },
      ];
      if ((i + k) % 2 === 1) sides.reverse();
      for (const side of sides) {
        const t0 = nowMs();
        await side.run();
        if (i >= deps.warm) side.keep.push(nowMs() - t0);
      }
    }
  }
  const F = summarize(floor);
  const out: Record<string, unknown> = { floor: F };
  deps.subjects.forEach((s, j) => {
    const S = summarize(samples[j]!);
    out[s.name] = S;
    const what = s.name === 'as is' ? 'as they are' : s.name === 'journal' ? 'as a one-row journal' : 'dropped';
    deps.add(p50InfoRow(`${kind} e2e, derived writes ${what} (p50, n=${S.n})`, S, F, NOTES[s.name]));
  });
  deps.details[`${kind}Ablation`] = out;
}
