/**
 * Where things are and which gateway/printer to use. One data dir per
 * terminal, shared by the Electron app (its userData) and the CLI.
 * Precedence: flag, then env, then settings stored in the data dir, then the default.
 */
import os from 'node:os';
import path from 'node:path';

export const APP_NAME = 'upay-pos';

/** The directory Electron uses as userData for this app (app.getPath('appData')/upay-pos). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = os.homedir();
  switch (platform) {
    case 'win32':
      return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), APP_NAME);
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', APP_NAME);
    default:
      return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), APP_NAME);
  }
}

/** The first defined value, in precedence order. */
export function pick<T>(...values: Array<T | undefined | null | ''>): T | undefined {
  for (const v of values) if (v !== undefined && v !== null && v !== '') return v as T;
  return undefined;
}
