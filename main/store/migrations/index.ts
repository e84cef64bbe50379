/** The ordered list of schema migrations; version N is MIGRATIONS[N-1]. */
import { m001 } from './001-initial';
import { m002 } from './002-revoke-order-index';
import { m003 } from './003-order-change-log';
import { m004 } from './004-open-revoke-day-index';
import { m005 } from './005-revoke-states';
import { m006 } from './006-operators';
import { m007 } from './007-refunds';
import { m008 } from './008-fleet-outbox';
import { m009 } from './009-open-operations';
import { m010 } from './010-operator-attempts';
import { m011 } from './011-fleet-identity';
import { m012 } from './012-payments';
import { m013 } from './013-pay-approvals';
import { m014 } from './014-cheaper-writes';
import { m015 } from './015-outbox-count-in-writers';
import { m016 } from './016-no-money-gives-way-first';
import { m017 } from './017-lockouts-grow';
import { m018 } from './018-order-terminal';
import { m019 } from './019-counting-day';

import type { Migration } from './migration';

export type { Migration } from './migration';

export const MIGRATIONS: readonly Migration[] = [m001, m002, m003, m004, m005, m006, m007, m008, m009, m010, m011, m012, m013, m014, m015, m016, m017, m018, m019];
