/**
 * A fresh harness and handler set around each test (vitest hooks): kept apart
 * from operators.ts, which the bench imports outside vitest.
 */
import { afterEach, beforeEach } from 'vitest';
import type { Clock } from '../../main/common/time';
import type { HandlerSet } from '../../main/ipc/handlers';
import type { Harness } from './harness';
import { harnessWithHandlers } from './operators';

/** Before each test a fresh harnessWithHandlers() (on `clock()` when given), handed to `use`; after it, the harness closed. */
export function harnessWithHandlersEach(use: (fresh: { h: Harness; set: HandlerSet }) => void, clock?: () => Clock): void {
  let current: Harness | undefined;
  beforeEach(async () => {
    const fresh = await harnessWithHandlers(clock?.());
    current = fresh.h;
    use(fresh);
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
}
