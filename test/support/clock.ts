/**
 * A clock shifted by a fixed offset (the same offset works across
 * processes). Its own file, with nothing else: the memory bench's child
 * imports it and must load only the runtime, not the sandbox.
 */
import type { Clock } from '../../main/common/time';

export function offsetClock(offsetMs: number): Clock {
  return { now: () => Date.now() + offsetMs };
}
