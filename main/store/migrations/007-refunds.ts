// Placeholder: the real migration comes from another branch at merge.
import type { Migration } from './index';
export const m007: Migration = { name: 'refunds', up: () => {} };
