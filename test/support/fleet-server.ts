/**
 * For the fleet test files: one PostgreSQL per file (started before its
 * tests, stopped after), head-office databases migrated on it, and the
 * shipper timings the tests use.
 */
import { afterAll, beforeAll } from 'vitest';
import { describeUrl, type FleetTarget } from '../../main/fleet/config';
import { withHeadOffice } from '../../main/fleet/head-office';
import { migrateHeadOffice } from '../../main/fleet/schema';
import { startPg, type TestPg } from './fleet-pg';

export const FAST = { pollMs: 20, backoffBaseMs: 20, backoffMaxMs: 100, connectTimeoutMs: 2000, queryTimeoutMs: 5000 };

export const targetOf = (url: string): FleetTarget => ({ url, shown: describeUrl(url), source: 'env' });

export function pgForThisFile(): { readonly pg: TestPg; headOffice(name: string): Promise<string> } {
  let server: TestPg | undefined;
  beforeAll(async () => {
    server = await startPg();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get pg() {
      return server!;
    },
    async headOffice(name) {
      const url = await server!.database(name);
      await withHeadOffice(targetOf(url), migrateHeadOffice);
      return url;
    },
  };
}
