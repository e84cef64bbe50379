// Placeholder: the real migration comes from another branch at merge.
import type { Migration } from './index';
export const m006: Migration = { name: '006-operators', up: () => {} };
