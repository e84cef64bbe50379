/**
 * What every IPC handler file shares (handlers.ts and the per-feature files
 * merged into its table): the call's context and the shape of a set of
 * channel implementations. In its own file so the feature files need not
 * import handlers.ts, which imports them.
 */
import type { z } from 'zod';
import type { Policy } from '../operators/policy';
import type { Caller, Sessions, SignedIn } from '../operators/sessions';
import type { Channel, Channels, OutputOf } from './contract';

export interface CallContext {
  caller: Caller | undefined;
  /** Who is signed in at the caller (always set for `signed-in` and `store_it` channels). */
  who: SignedIn | null;
  /** The audit actor: the app's, with the signed-in operator's name. */
  actor: string;
  policy: Policy;
  sessions: Sessions;
}

type ParsedInput<C extends Channel> = z.output<Channels[C]['input']>;
/** Implementations of some channels (a handler file per feature merges into the table). */
export type ChannelImpls<Cs extends Channel> = { [C in Cs]: (input: ParsedInput<C>, ctx: CallContext) => Promise<OutputOf<C>> | OutputOf<C> };
