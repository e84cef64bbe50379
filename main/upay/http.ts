/**
 * undici's Agent and its request API, loaded from their own modules rather
 * than from the package's index: the index also loads fetch, WebSocket,
 * EventSource, the mock agents, the interceptors and the caches (~9 MB of
 * RSS in every counter process, none of it used: the client makes plain
 * HTTP/1.1 requests through one dispatcher). `request` is what the index's
 * `request(url, opts)` does for a call that names its dispatcher. undici is
 * pinned to 7.x by the lockfile; test/unit/undici-parts.test.ts proves these
 * are the package's own Agent and request.
 */
import type { Agent as AgentClass, Dispatcher } from 'undici';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a part of the package, not its index (see above)
export const Agent = require('undici/lib/dispatcher/agent') as typeof AgentClass;

type ApiRequest = (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a part of the package, not its index (see above)
const apiRequest = require('undici/lib/api/api-request') as ApiRequest;

export type RequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: Dispatcher };

/** One request to `url` through `options.dispatcher` (undici's `request`, with the dispatcher always given). */
export function request(url: string, options: RequestOptions): Promise<Dispatcher.ResponseData> {
  const u = new URL(url);
  const { dispatcher, ...rest } = options;
  return apiRequest.call(dispatcher, { ...rest, origin: u.origin, path: u.search ? `${u.pathname}${u.search}` : u.pathname, method: rest.method });
}
