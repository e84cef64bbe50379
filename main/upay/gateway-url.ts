/**
 * The one rule for a gateway address, wherever it comes from (CLI flag, env,
 * stored setting, runtime option, the app's configuration): activation and
 * check-in answers carry the terminal key in clear, so a gateway is `https`,
 * except on this machine's loopback (127.0.0.0/8, ::1, localhost) where the
 * embedded sandbox runs. Credentials, paths, queries and fragments are refused
 * too: the client only ever uses the origin, and a `user:pw@` must never be
 * stored, logged or audited.
 */
import { isIP } from 'node:net';
import { PosError } from '../errors';

export const GATEWAY_URL_MAX = 200;

export class GatewayUrlError extends PosError {
  constructor(readonly reasonEn: string, reasonZh: string, source: string) {
    super('INVALID_INPUT', `网关地址无效（${source}）：${reasonZh}`, `Invalid gateway address (${source}): ${reasonEn}`, { field: source, reason: reasonEn });
    this.name = 'GatewayUrlError';
  }
}

/** True for 127.0.0.0/8, ::1 (and ::ffff:127.x) and the name `localhost`, as the URL parser normalises them. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:(127\.|7f[0-9a-f]{2}:)/.test(h);
  return false;
}

/**
 * Returns the gateway's origin, or throws GatewayUrlError (code INVALID_INPUT)
 * naming `source` (e.g. `--api-domain`, `UPAY_API_DOMAIN`, `apiDomain`).
 */
export function checkGatewayUrl(value: string, source = 'apiDomain'): string {
  const fail = (en: string, zh: string): never => {
    throw new GatewayUrlError(en, zh, source);
  };
  if (typeof value !== 'string' || value.trim() === '') fail('must not be empty', '不能为空');
  if (value.length > GATEWAY_URL_MAX) fail(`must be at most ${GATEWAY_URL_MAX} characters`, `最多 ${GATEWAY_URL_MAX} 个字符`);
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return fail('is not a URL (e.g. https://vsi-api.shouqianba.com)', '不是网址（例如 https://vsi-api.shouqianba.com）');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail('must be an https:// URL', '必须是 https:// 网址');
  if (url.username || url.password) fail('must not contain a user name or password', '不能包含用户名或密码');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) fail('must be an origin only (no path, query or fragment)', '只能是网关地址本身（不含路径、查询或片段）');
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    fail(
      'plain http is allowed only for this machine (127.0.0.1, ::1, localhost): the gateway sends the terminal key, so use https://',
      '仅本机地址（127.0.0.1、::1、localhost）可使用 http：网关会发送终端密钥，请使用 https://',
    );
  }
  return url.origin;
}

/** The rule as a boolean, for schemas. */
export function isAllowedGatewayUrl(value: string): boolean {
  try {
    checkGatewayUrl(value);
    return true;
  } catch {
    return false;
  }
}
