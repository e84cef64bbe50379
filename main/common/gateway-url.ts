/**
 * The one rule for a gateway address, as pure code (main/upay/gateway-url.ts
 * turns a problem into an error naming where the address came from):
 * activation and check-in answers carry the terminal key in clear, so a
 * gateway is `https`, except on this machine's loopback (127.0.0.0/8, ::1,
 * localhost) where the embedded sandbox runs. Credentials, paths, queries and
 * fragments are refused too: the client only ever uses the origin, and a
 * `user:pw@` must never be stored, logged or audited.
 */

export const GATEWAY_URL_MAX = 200;

/** True for 127.0.0.0/8, ::1 (and ::ffff:127.x) and the name `localhost`, as the URL parser normalises them. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(h)) return h.startsWith('127.');
  if (h.includes(':')) return h === '::1' || /^::ffff:(127\.|7f[0-9a-f]{2}:)/.test(h);
  return false;
}

/** The address's origin, or why it is refused (en and zh-CN). */
export function gatewayUrlVerdict(value: unknown): { origin: string } | { en: string; zh: string } {
  if (typeof value !== 'string' || value.trim() === '') return { en: 'must not be empty', zh: '不能为空' };
  if (value.length > GATEWAY_URL_MAX) return { en: `must be at most ${GATEWAY_URL_MAX} characters`, zh: `最多 ${GATEWAY_URL_MAX} 个字符` };
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return { en: 'is not a URL (e.g. https://vsi-api.shouqianba.com)', zh: '不是网址（例如 https://vsi-api.shouqianba.com）' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { en: 'must be an https:// URL', zh: '必须是 https:// 网址' };
  if (url.username || url.password) return { en: 'must not contain a user name or password', zh: '不能包含用户名或密码' };
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    return { en: 'must be an origin only (no path, query or fragment)', zh: '只能是网关地址本身（不含路径、查询或片段）' };
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return {
      en: 'plain http is allowed only for this machine (127.0.0.1, ::1, localhost): the gateway sends the terminal key, so use https://',
      zh: '仅本机地址（127.0.0.1、::1、localhost）可使用 http：网关会发送终端密钥，请使用 https://',
    };
  }
  return { origin: url.origin };
}
