/**
 * Preloaded into CLI children by the security tests (NODE_OPTIONS=--require):
 * - refuses, and records in $UPAY_TEST_NET_LOG, every TCP connection to an
 *   address that is not this machine's loopback, before any lookup or packet:
 *   an attack test must never send traffic elsewhere, even if the check under
 *   test were broken;
 * - writes the process's peak RSS (KiB) to $UPAY_TEST_RSS_FILE at exit.
 */
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload (node --require) */
'use strict';
const fs = require('node:fs');
const net = require('node:net');

function isLoopback(host) {
  const h = String(host).toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1';
  return false;
}

const original = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  let first = args[0];
  if (Array.isArray(first)) first = first[0];
  let host;
  let isPath = false;
  if (first && typeof first === 'object') {
    if (first.path) isPath = true;
    host = first.host ?? 'localhost';
  } else if (typeof first === 'string' && !/^\d+$/.test(first)) {
    isPath = true;
  } else {
    host = typeof args[1] === 'string' ? args[1] : 'localhost';
  }
  if (!isPath && !isLoopback(host)) {
    if (process.env.UPAY_TEST_NET_LOG) fs.appendFileSync(process.env.UPAY_TEST_NET_LOG, `${host}\n`);
    const err = Object.assign(new Error(`net-guard: refused a connection to ${host}`), { code: 'ENETUNREACH' });
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return original.apply(this, args);
};

if (process.env.UPAY_TEST_RSS_FILE) {
  process.on('exit', () => {
    fs.writeFileSync(process.env.UPAY_TEST_RSS_FILE, String(process.resourceUsage().maxRSS));
  });
}
