/**
 * The consoles open on this instance: a counsellor belongs to the instance their page is
 * connected to, which welcomes each page, hears the frames meant for them, keeps their presence
 * and lets them go once a reload's grace period has passed without their return.
 */
import { errorFrame, helloFrame, type ConsoleErrorCode, type ConsoleFrame } from '../consoleFrames.js';
import type { CounsellorLink, HandoverDeskOptions, StaffMember } from '../handoverDesk.js';
import type { DeskBus, DeskNews } from '../deskBus.js';
import type { DeskSnapshot, DeskStore } from '../../redis/deskStore.js';
import { chatsFrame, presenceFrame, queueFrame } from './deskViews.js';
import { keepWhileAway } from './heldFrames.js';

/** A counsellor with a console open (or reconnecting) on this instance. */
export interface LocalCounsellor {
  readonly name: string;
  readonly role: StaffMember['role'];
  available: boolean;
  /** Each page, and whether it has had its welcome yet (frames wait until it has). */
  readonly links: Map<CounsellorLink, { ready: boolean; pending: ConsoleFrame[] }>;
  grace?: NodeJS.Timeout;
  /** The person's words while every page is away; handed over on return, never kept longer. */
  held: ConsoleFrame[];
}

/** What the consoles need of the rest of the desk. */
export interface ConsoleDeps {
  readonly instanceId: string;
  readonly store: DeskStore;
  readonly bus: DeskBus;
  /** Shared with the desk, which reports them in its heartbeat and writes them back after an outage. */
  readonly counsellors: Map<string, LocalCounsellor>;
  readonly options: Pick<HandoverDeskOptions, 'log' | 'modules'>;
  readonly now: () => number;
  readonly graceMs: number;
  /** When this instance's presence lapses if it says nothing more. */
  presenceExpiry(): number;
  requireRedis(): void;
  announce(news: DeskNews): Promise<void>;
  /** Keeps the snapshot just read, for wait estimates between reads. */
  setView(snapshot: DeskSnapshot): void;
}

export class LocalConsoles {
  private lastBroadcast = 0;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;

  constructor(private readonly deps: ConsoleDeps) {}

  /** When the consoles here were last sent the queue. */
  get lastQueueBroadcast(): number {
    return this.lastBroadcast;
  }

  /** A console page connected; returns what to call when it goes. */
  attach(staff: StaffMember, link: CounsellorLink): () => void {
    let counsellor = this.deps.counsellors.get(staff.name);
    const arriving = !counsellor;
    if (!counsellor) {
      counsellor = { name: staff.name, role: staff.role, available: false, links: new Map(), held: [] };
      this.deps.counsellors.set(staff.name, counsellor);
    }
    clearTimeout(counsellor.grace);
    counsellor.grace = undefined;
    counsellor.links.set(link, { ready: false, pending: [] });
    const own = counsellor;
    void this.welcome(own, link, arriving);
    return () => this.detach(own, link);
  }

  private async welcome(counsellor: LocalCounsellor, link: CounsellorLink, arriving: boolean): Promise<void> {
    let snapshot: DeskSnapshot | undefined;
    try {
      this.deps.requireRedis();
      if (arriving) await this.deps.bus.follow(counsellor.name);
      const [record, online] = await Promise.all([this.deps.store.counsellor(counsellor.name), this.deps.store.online()]);
      // Still "available" after a reload onto another instance within the grace period (they are
      // online there meanwhile); a record left by an instance that crashed says nothing.
      if (record && (!arriving || online.has(counsellor.name))) counsellor.available = record.available;
      await this.deps.store.setCounsellor(counsellor.name, { role: counsellor.role, available: counsellor.available });
      await this.deps.store.heartbeat(this.deps.instanceId, [counsellor.name], this.deps.presenceExpiry());
      snapshot = await this.deps.store.snapshot();
      this.deps.setView(snapshot);
    } catch {
      snapshot = undefined;
    }
    const state = counsellor.links.get(link);
    if (!state) return;
    link.send(helloFrame(counsellor, this.deps.now(), this.deps.options.modules));
    if (snapshot) {
      link.send(queueFrame(snapshot, this.deps.now()));
      link.send(chatsFrame(snapshot, counsellor.name));
      if (counsellor.role === 'supervisor') link.send(presenceFrame(snapshot));
    } else {
      link.send(errorFrame('LIVE_CHAT_UNAVAILABLE'));
    }
    // Whatever the person wrote while the page was away is handed over now, then forgotten.
    counsellor.held.splice(0).forEach((frame) => link.send(frame));
    state.pending.splice(0).forEach((frame) => link.send(frame));
    state.ready = true;
    if (snapshot) {
      await this.deps.announce({ kind: 'counsellorBack', name: counsellor.name, at: this.deps.instanceId }).catch(() => undefined);
      await this.deps.announce({ kind: 'changed' }).catch(() => undefined);
    }
  }

  private detach(counsellor: LocalCounsellor, link: CounsellorLink): void {
    counsellor.links.delete(link);
    if (counsellor.links.size > 0) return;
    // A reload or a short network blip should not cost anyone their chat; a longer absence does.
    counsellor.grace = setTimeout(() => void this.counsellorGone(counsellor), this.deps.graceMs);
    counsellor.grace.unref();
  }

  /** Lets the counsellor go from this instance, unless a page of theirs has come back meanwhile. */
  async counsellorGone(counsellor: LocalCounsellor, { reconnectedElsewhere = false } = {}): Promise<void> {
    clearTimeout(counsellor.grace);
    counsellor.grace = undefined;
    if (counsellor.links.size > 0 || this.deps.counsellors.get(counsellor.name) !== counsellor) return;
    this.deps.counsellors.delete(counsellor.name);
    const held = counsellor.held.splice(0);
    try {
      this.deps.bus.unfollow(counsellor.name);
      // They came back here while we were letting go: keep hearing their frames.
      if (this.deps.counsellors.has(counsellor.name)) return void (await this.deps.bus.follow(counsellor.name));
      await this.deps.store.dropPresence(this.deps.instanceId, counsellor.name);
      if (reconnectedElsewhere) {
        if (held.length > 0) await this.deps.bus.toCounsellor(counsellor.name, held);
        return;
      }
      if (!(await this.deps.store.online()).has(counsellor.name)) {
        await this.deps.store.forgetCounsellor(counsellor.name);
        await this.deps.announce({ kind: 'counsellorLeft', name: counsellor.name });
      }
      await this.deps.announce({ kind: 'changed' });
    } catch (error) {
      // Their presence lapses by itself; the people's homes notice on their next tick.
      this.deps.options.log.warn({ event: 'handover.counsellorGoneFailed', err: error });
    }
  }

  /** Frames for a counsellor, heard from the bus: to their pages here, or held while they reconnect. */
  framesForCounsellor(name: string, frames: readonly ConsoleFrame[]): void {
    const counsellor = this.deps.counsellors.get(name);
    if (!counsellor) return;
    if (counsellor.links.size === 0) {
      keepWhileAway(counsellor.held, frames);
      return;
    }
    for (const frame of frames) this.toLinks(counsellor, frame);
  }

  /** To every page of the counsellor here; a page still being welcomed gets it afterwards. */
  toLinks(counsellor: LocalCounsellor, frame: ConsoleFrame): void {
    for (const [link, state] of counsellor.links) {
      if (state.ready) link.send(frame);
      else state.pending.push(frame);
    }
  }

  /** Tells the counsellor's pages on this instance why something did not happen. */
  refuse(name: string, code: ConsoleErrorCode, ref?: string): void {
    const counsellor = this.deps.counsellors.get(name);
    if (counsellor) this.toLinks(counsellor, errorFrame(code, ref));
  }

  /** After an outage: every console gets the queue and its chats afresh. */
  rewelcomeConsoles(): void {
    void (async () => {
      const snapshot = await this.deps.store.snapshot();
      this.deps.setView(snapshot);
      for (const counsellor of this.deps.counsellors.values()) {
        this.toLinks(counsellor, chatsFrame(snapshot, counsellor.name));
      }
      this.sendViews(snapshot);
    })().catch(() => undefined);
  }

  /** Sends every console here the queue (and supervisors the team), read afresh; calls close together share one read. */
  refreshConsoles(): void {
    if (this.deps.counsellors.size === 0) return;
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        const snapshot = await this.deps.store.snapshot();
        this.deps.setView(snapshot);
        this.sendViews(snapshot);
      } while (this.refreshAgain);
    })()
      .catch(() => undefined)
      .finally(() => {
        this.refreshing = undefined;
      });
  }

  private sendViews(snapshot: DeskSnapshot): void {
    this.lastBroadcast = this.deps.now();
    const queue = queueFrame(snapshot, this.deps.now());
    const presence = presenceFrame(snapshot);
    for (const counsellor of this.deps.counsellors.values()) {
      this.toLinks(counsellor, queue);
      if (counsellor.role === 'supervisor') this.toLinks(counsellor, presence);
    }
  }
}
