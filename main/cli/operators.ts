/**
 * `upay-pos operators list|add|disable|enable|reset-pin|unlock`: store IT
 * manages who may sign in at the counter, and can always lift a lockout
 * (a stranger at the sign-in screen can lock any operator, store IT too). The PIN is read from a TTY prompt (not
 * echoed, asked twice) or from standard input, never from the command line,
 * where every local user would see it in `ps` and the shell history.
 */
import type { ReadStream } from 'node:tty';
import { invalidInput } from '../errors';
import { operatorUnknown } from '../operators/errors';
import { isPinShaped } from '../operators/pin';
import { ROLES, type Operator } from '../operators/service';
import { formatCst } from '../common/time';
import { actor, required, str, withRuntime, type CliContext } from './context';

const MAX_PIN_INPUT = 64;

function describeOperator(o: Operator): string {
  const state = !o.active ? 'disabled' : o.lockedUntil !== null ? `locked until ${formatCst(o.lockedUntil)}` : 'active';
  return `${String(o.id).padStart(4)}  ${o.role.padEnd(10)}  ${state.padEnd(10)}  ${o.name}`;
}

const publicView = (o: Operator) => ({ id: o.id, name: o.name, role: o.role, active: o.active, language: o.language, lockedUntil: o.lockedUntil, createdAt: o.createdAt });

/** `--id N` or `--name NAME`, checked before any I/O. */
function whoFlag(ctx: CliContext): { id: number } | { name: string } {
  const id = str(ctx, 'id');
  const name = str(ctx, 'name');
  if ((id === undefined) === (name === undefined)) throw invalidInput('--id/--name', 'give exactly one of --id or --name', '请提供 --id 或 --name 之一');
  if (id !== undefined) {
    if (!/^\d{1,9}$/.test(id) || Number(id) < 1) throw invalidInput('--id', 'must be an operator id (a whole number)');
    return { id: Number(id) };
  }
  return { name: name! };
}

function findOperator(ctx: CliContext, rt: { operators: { get(id: number): Operator | undefined; list(): Operator[] } }): Operator {
  const who = whoFlag(ctx);
  const found = 'id' in who ? rt.operators.get(who.id) : rt.operators.list().find((o) => o.name === who.name.trim());
  if (!found) throw operatorUnknown();
  return found;
}

/** One PIN: from a TTY, typed without echo and confirmed; else the first line of standard input. */
async function readPin(ctx: CliContext): Promise<string> {
  const tty = ctx.stdin as Partial<ReadStream>;
  if (tty.isTTY && typeof tty.setRawMode === 'function') {
    const first = await promptHidden(ctx, tty as ReadStream, 'PIN (4-8 digits): ');
    const second = await promptHidden(ctx, tty as ReadStream, 'PIN again: ');
    if (first !== second) throw invalidInput('PIN', 'the two PINs differ', '两次输入的 PIN 不一致');
    return checkPin(first);
  }
  let text = '';
  for await (const chunk of ctx.stdin) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    if (text.length > MAX_PIN_INPUT) throw invalidInput('PIN', 'standard input is too long for a PIN');
  }
  return checkPin(text.split(/\r?\n/)[0]!.trim());
}

function checkPin(pin: string): string {
  if (!isPinShaped(pin)) throw invalidInput('PIN', 'must be 4-8 digits (read from standard input or the terminal, never from the command line)', '须为 4-8 位数字（从标准输入或终端读取，不从命令行读取）');
  return pin;
}

function promptHidden(ctx: CliContext, input: ReadStream, prompt: string): Promise<string> {
  ctx.progress(prompt);
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (err: Error | null) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003') return done(invalidInput('PIN', 'cancelled'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else if (typed.length < MAX_PIN_INPUT) typed += ch;
      }
    };
    input.setRawMode(true);
    input.resume();
    input.on('data', onData);
  });
}

export async function operatorsList(ctx: CliContext): Promise<number> {
  return withRuntime(ctx, async ({ rt }) => {
    const all = rt.operators.list();
    ctx.out({ operators: all.map(publicView) }, all.length ? ['  id  role        state       name', ...all.map(describeOperator)].join('\n') : 'no operators yet');
    return 0;
  });
}

export async function operatorsAdd(ctx: CliContext): Promise<number> {
  const name = required(ctx, 'name');
  const role = required(ctx, 'role');
  if (!(ROLES as readonly string[]).includes(role)) throw invalidInput('--role', `must be one of ${ROLES.join(', ')}`);
  const pin = await readPin(ctx);
  return withRuntime(ctx, async ({ rt }) => {
    const o = await rt.operators.add({ name, role, pin }, actor(ctx));
    ctx.out({ operator: publicView(o) }, `added ${describeOperator(o).trim()}`);
    return 0;
  });
}

export function operatorsSetActive(active: boolean) {
  return async (ctx: CliContext): Promise<number> => {
    whoFlag(ctx);
    return withRuntime(ctx, async ({ rt }) => {
      const o = rt.operators.setActive(findOperator(ctx, rt).id, active, actor(ctx));
      ctx.out({ operator: publicView(o) }, `${active ? 'enabled' : 'disabled'} ${describeOperator(o).trim()}`);
      return 0;
    });
  };
}

export async function operatorsResetPin(ctx: CliContext): Promise<number> {
  whoFlag(ctx);
  const pin = await readPin(ctx);
  return withRuntime(ctx, async ({ rt }) => {
    const o = await rt.operators.resetPin(findOperator(ctx, rt).id, pin, actor(ctx));
    ctx.out({ operator: publicView(o) }, `new PIN set (lockout lifted) for ${describeOperator(o).trim()}`);
    return 0;
  });
}

export async function operatorsUnlock(ctx: CliContext): Promise<number> {
  whoFlag(ctx);
  return withRuntime(ctx, async ({ rt }) => {
    const o = rt.operators.unlock(findOperator(ctx, rt).id, actor(ctx));
    ctx.out({ operator: publicView(o) }, `unlocked ${describeOperator(o).trim()}`);
    return 0;
  });
}
