/** The ordered list of schema migrations; version N is MIGRATIONS[N-1]. */
import type Database from 'better-sqlite3';
import { m001 } from './001-initial';

export interface Migration {
  name: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [m001];
