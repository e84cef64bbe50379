import type Database from 'better-sqlite3';

/** One schema version: its name and its DDL (literal SQL, frozen once released). */
export interface Migration {
  name: string;
  up(db: Database.Database): void;
}
