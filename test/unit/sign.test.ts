import { describe, expect, it } from 'vitest';
import { authorization, sign, verify } from '../../main/upay/sign';

// The three vectors of ../shared/upay-v2.md §1 (key: the official docs' example key).
const KEY = '68d499beda5f72116592f5c527465656';

describe('signature vectors', () => {
  it('client_sn body', () => {
    expect(sign('{"terminal_sn":"10298371039","client_sn":"MEX202605220001"}', KEY)).toBe('6f019623b51f46d9ece0c3404643a3b8');
  });
  it('UTF-8 body with Chinese subject', () => {
    expect(sign('{"terminal_sn":"10298371039","sn":"7894259244061958","subject":"披萨"}', KEY)).toBe(
      '26d438fc853f0531d947c2169130faff',
    );
  });
  it('empty body', () => {
    expect(sign('', KEY)).toBe('6bc37a6c623eae90c5c5464b52ce4632');
  });
  it('signs bytes identically to the string', () => {
    const body = '{"terminal_sn":"10298371039","sn":"7894259244061958","subject":"披萨"}';
    expect(sign(Buffer.from(body, 'utf8'), KEY)).toBe(sign(body, KEY));
  });
  it('builds the Authorization header with one space', () => {
    expect(authorization('10298371039', '', KEY)).toBe('10298371039 6bc37a6c623eae90c5c5464b52ce4632');
  });
  it('verifies case-insensitively and rejects other signatures', () => {
    expect(verify('', KEY, '6BC37A6C623EAE90C5C5464B52CE4632')).toBe(true);
    expect(verify('', KEY, '6bc37a6c623eae90c5c5464b52ce4633')).toBe(false);
    expect(verify('', KEY, 'short')).toBe(false);
  });
});
