/**
 * The explorer's state, outside React: handshake, the lazy tree, the filter, the selected table, its
 * snapshots and preview, and the refresh poll. Components re-render on `changed`.
 *
 * Nothing is loaded before it is shown: namespaces first, a namespace's tables (by pages) when it is
 * expanded, a table's refs when it is expanded, its detail and first page of snapshots when selected.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { IAt, ICompactResult, IPage, IPreview, IRef, ISnapshot, ITableDetail, ITableName, RatApi } from './api';
import { Handshake, handshakeResult } from './format';

export const TABLE_PAGE = 100;
export const SNAPSHOT_PAGE = 50;

export interface ISelection {
  namespace: string;
  name: string;
  ref: string | null;
}

export interface IListing {
  items: ITableName[];
  total: number;
  loading: boolean;
  error: string | null;
}

/** A compaction asked from the sidebar: running, or its outcome (kept until another table is selected). */
export interface ICompaction {
  identifier: string;
  branch: string;
  busy: boolean;
  result: ICompactResult | null;
  error: string | null;
}

export type Tab = 'schema' | 'checks' | 'snapshots' | 'properties' | 'preview';

/** Append a page to a listing (dropping duplicates a concurrent refresh could bring). */
export function mergePage(current: ITableName[], page: IPage<ITableName>): ITableName[] {
  const seen = new Set(current.map(t => t.identifier));
  return current.concat(page.items.filter(t => !seen.has(t.identifier)));
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class ExplorerModel {
  constructor(readonly api: RatApi = new RatApi()) {}

  handshake: Handshake = { state: 'pending' };
  namespaces: string[] | null = null;
  namespacesError: string | null = null;
  readonly listings = new Map<string, IListing>();
  filter = '';
  filtered: IListing | null = null;
  readonly refs = new Map<string, IRef[] | 'loading'>();
  selection: ISelection | null = null;
  detail: ITableDetail | null = null;
  detailError: string | null = null;
  snapshots: IPage<ISnapshot> | null = null;
  tab: Tab = 'schema';
  preview: IPreview | null = null;
  previewAt: IAt = {};
  previewLoading = false;
  previewError: string | null = null;
  marker: string | null = null;
  compaction: ICompaction | null = null;

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get ready(): boolean {
    return this.handshake.state === 'ok';
  }

  get readOnly(): boolean {
    return this.handshake.state === 'ok' && this.handshake.server.read_only;
  }

  /** Run the handshake, then load the namespaces. */
  async start(): Promise<void> {
    try {
      this.handshake = handshakeResult(await this.api.version());
    } catch (error) {
      this.handshake = handshakeResult(null, error);
    }
    this.emit();
    if (this.ready) {
      await this.refresh();
    }
  }

  /** Reload everything shown (namespaces, open listings, refs, selected table) and the change marker. */
  async refresh(): Promise<void> {
    if (!this.ready) {
      return this.start();
    }
    try {
      this.marker = (await this.api.changes()).marker;
      this.namespaces = (await this.api.namespaces()).items.map(n => n.name);
      this.namespacesError = null;
    } catch (error) {
      this.namespacesError = message(error);
    }
    const open = [...this.listings.keys()];
    this.listings.clear();
    const openRefs = [...this.refs.keys()];
    this.refs.clear();
    this.emit();
    await Promise.all([
      ...open.map(ns => this.loadTables(ns)),
      ...openRefs.map(id => this.loadRefs(id)),
      this.filter ? this.setFilter(this.filter) : Promise.resolve(),
      this.selection ? this.select(this.selection, this.tab) : Promise.resolve()
    ]);
  }

  /** Refresh when the catalog's change marker moved (after a notebook or pipeline wrote). */
  async checkChanges(): Promise<boolean> {
    if (!this.ready) {
      return false;
    }
    try {
      const { marker } = await this.api.changes();
      if (this.marker !== null && marker !== this.marker) {
        await this.refresh();
        return true;
      }
      this.marker = marker;
    } catch {
      // a missed poll is retried at the next tick
    }
    return false;
  }

  isExpanded(namespace: string): boolean {
    return this.listings.has(namespace);
  }

  async toggleNamespace(namespace: string): Promise<void> {
    if (this.listings.has(namespace)) {
      this.listings.delete(namespace);
      this.emit();
      return;
    }
    await this.loadTables(namespace);
  }

  /** Load the next page of a namespace's tables. */
  async loadTables(namespace: string): Promise<void> {
    const current = this.listings.get(namespace) ?? { items: [], total: 0, loading: false, error: null };
    this.listings.set(namespace, { ...current, loading: true });
    this.emit();
    try {
      const page = await this.api.tables({ namespace, offset: current.items.length, limit: TABLE_PAGE });
      this.listings.set(namespace, { items: mergePage(current.items, page), total: page.total, loading: false, error: null });
    } catch (error) {
      this.listings.set(namespace, { ...current, loading: false, error: message(error) });
    }
    this.emit();
  }

  /** Show the tables whose `ns.table` contains `text` (a flat, paged list); empty text shows the tree. */
  async setFilter(text: string, more = false): Promise<void> {
    this.filter = text;
    if (!text.trim()) {
      this.filtered = null;
      this.emit();
      return;
    }
    const current = more && this.filtered ? this.filtered : { items: [], total: 0, loading: false, error: null };
    this.filtered = { ...current, loading: true };
    this.emit();
    try {
      const page = await this.api.tables({ filter: text, offset: current.items.length, limit: TABLE_PAGE });
      if (this.filter === text) {
        this.filtered = { items: mergePage(current.items, page), total: page.total, loading: false, error: null };
      }
    } catch (error) {
      if (this.filter === text) {
        this.filtered = { ...current, loading: false, error: message(error) };
      }
    }
    this.emit();
  }

  async toggleRefs(identifier: string): Promise<void> {
    if (this.refs.has(identifier)) {
      this.refs.delete(identifier);
      this.emit();
      return;
    }
    await this.loadRefs(identifier);
  }

  async loadRefs(identifier: string): Promise<void> {
    const [namespace, name] = identifier.split('.');
    this.refs.set(identifier, 'loading');
    this.emit();
    try {
      this.refs.set(identifier, (await this.api.refs(namespace, name)).items);
    } catch {
      this.refs.delete(identifier);
    }
    this.emit();
  }

  /** Select a table (at a ref), load its detail and first page of snapshots. */
  async select(selection: ISelection, tab: Tab = 'schema'): Promise<void> {
    const token = ++this._token;
    const same =
      this.selection?.namespace === selection.namespace &&
      this.selection?.name === selection.name &&
      this.selection?.ref === selection.ref;
    this.selection = selection;
    this.tab = tab;
    if (!same) {
      this.detail = null;
      this.snapshots = null;
      this.preview = null;
      this.previewError = null;
      if (!this.compaction?.busy) {
        this.compaction = null;
      }
    }
    this.detailError = null;
    this.emit();
    const { namespace, name, ref } = selection;
    try {
      const [detail, snapshots] = await Promise.all([
        this.api.table(namespace, name, { ref }),
        this.api.snapshots(namespace, name, { ref, limit: SNAPSHOT_PAGE })
      ]);
      if (token === this._token) {
        this.detail = detail;
        this.snapshots = snapshots;
      }
    } catch (error) {
      if (token === this._token) {
        this.detailError = message(error);
      }
    }
    this.emit();
  }

  /** The selected table's compaction, if one runs or ran. */
  get tableCompaction(): ICompaction | null {
    const c = this.compaction;
    return c && this.detail && c.identifier === this.detail.identifier ? c : null;
  }

  /**
   * Compact the branch the detail's file counts describe (`files_branch`), then refresh: the detail then
   * shows the new counts, and `compaction` what happened (or the error).
   */
  async compact(): Promise<ICompactResult | null> {
    const detail = this.detail;
    if (!this.selection || !detail || this.compaction?.busy) {
      return null;
    }
    const { namespace, name } = this.selection;
    const started: ICompaction = {
      identifier: detail.identifier,
      branch: detail.files_branch,
      busy: true,
      result: null,
      error: null
    };
    this.compaction = started;
    this.emit();
    let result: ICompactResult | null = null;
    try {
      result = await this.api.compact(namespace, name, started.branch);
      this.compaction = { ...started, busy: false, result };
    } catch (error) {
      this.compaction = { ...started, busy: false, error: message(error) };
    }
    this.emit();
    if (result) {
      await this.refresh();
    }
    return result;
  }

  setTab(tab: Tab): void {
    this.tab = tab;
    this.emit();
  }

  async loadMoreSnapshots(): Promise<void> {
    if (!this.selection || !this.snapshots) {
      return;
    }
    const { namespace, name, ref } = this.selection;
    const page = await this.api.snapshots(namespace, name, { ref, offset: this.snapshots.items.length, limit: SNAPSHOT_PAGE });
    this.snapshots = { ...page, items: this.snapshots.items.concat(page.items), offset: 0 };
    this.emit();
  }

  /** Preview the selected table at its ref, or at `at` (a snapshot, for time travel). */
  async runPreview(at?: IAt, limit = 100): Promise<void> {
    if (!this.selection) {
      return;
    }
    const { namespace, name, ref } = this.selection;
    this.previewAt = at ?? { ref };
    this.tab = 'preview';
    this.previewLoading = true;
    this.previewError = null;
    this.emit();
    const max = this.handshake.state === 'ok' ? this.handshake.server.preview_max_rows : limit;
    try {
      this.preview = await this.api.preview(namespace, name, this.previewAt, Math.min(limit, max));
    } catch (error) {
      this.preview = null;
      this.previewError = message(error);
    }
    this.previewLoading = false;
    this.emit();
  }

  private emit(): void {
    this._changed.emit();
  }

  private _changed = new Signal<this, void>(this);
  private _token = 0;
}
