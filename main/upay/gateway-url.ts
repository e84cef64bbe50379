/**
 * The one rule for a gateway address, wherever it comes from (CLI flag, env,
 * stored setting, runtime option, the app's configuration): activation and
 * check-in answers carry the terminal key in clear, so a gateway is `https`,
 * except on this machine's loopback (127.0.0.0/8, ::1, localhost) where the
 * embedded sandbox runs. Credentials, paths, queries and fragments are refused
 * too: the client only ever uses the origin, and a `user:pw@` must never be
 * stored, logged or audited.
 */
import { gatewayUrlVerdict } from '../common/gateway-url';
import { PosError } from '../errors';

export { GATEWAY_URL_MAX, isLoopbackHost } from '../common/gateway-url';

export class GatewayUrlError extends PosError {
  constructor(readonly reasonEn: string, reasonZh: string, source: string) {
    super('INVALID_INPUT', `网关地址无效（${source}）：${reasonZh}`, `Invalid gateway address (${source}): ${reasonEn}`, { field: source, reason: reasonEn });
    this.name = 'GatewayUrlError';
  }
}

/**
 * Returns the gateway's origin, or throws GatewayUrlError (code INVALID_INPUT)
 * naming `source` (e.g. `--api-domain`, `UPAY_API_DOMAIN`, `apiDomain`).
 */
export function checkGatewayUrl(value: string, source = 'apiDomain'): string {
  const v = gatewayUrlVerdict(value);
  if ('origin' in v) return v.origin;
  throw new GatewayUrlError(v.en, v.zh, source);
}

/** The rule as a boolean, for schemas. */
export function isAllowedGatewayUrl(value: string): boolean {
  return 'origin' in gatewayUrlVerdict(value);
}
