/**
 * What the consoles and people are shown of the shared desk, worked out from one snapshot of it.
 * Pure: the same snapshot always gives the same frames, whichever instance reads it.
 */
import type { OpenChat, ConsoleFrame } from '../consoleFrames.js';
import type { ChatRecord, DeskSnapshot } from '../../redis/deskStore.js';

export function openChat(chat: ChatRecord): OpenChat {
  return { chatId: chat.chatId, card: chat.ticket.card, connectedAt: chat.connectedAt };
}

/** The chats open for one counsellor. */
export function chatsFrame(snapshot: DeskSnapshot, name: string): ConsoleFrame {
  return { type: 'chats', chats: snapshot.chats.filter((chat) => chat.counsellor === name).map(openChat) };
}

export function queueFrame(snapshot: DeskSnapshot, now: number): ConsoleFrame {
  return {
    type: 'queue',
    now,
    entries: snapshot.queue.map((entry) => ({ ticket: entry.ticket, priority: entry.priority, card: entry.card })),
  };
}

/** For supervisors: who is online on any instance, and how busy the desk is. */
export function presenceFrame(snapshot: DeskSnapshot): ConsoleFrame {
  const chatsOf = (name: string) => snapshot.chats.filter((chat) => chat.counsellor === name).length;
  return {
    type: 'presence',
    counsellors: [...snapshot.online].map((name) => {
      const record = snapshot.counsellors.get(name);
      return { name, role: record?.role ?? 'counsellor', available: record?.available ?? false, chats: chatsOf(name) };
    }),
    queueLength: snapshot.queue.length,
    liveChats: snapshot.chats.length,
  };
}

/** Honest, and rough: people ahead of you, times an average chat, shared among who is online. */
export function estimateMinutes(view: DeskSnapshot | undefined, position: number, assumedChatMinutes: number): number {
  const recent = view?.recentChatMinutes ?? [];
  const chatMinutes = recent.length >= 3 ? recent.reduce((a, b) => a + b, 0) / recent.length : assumedChatMinutes;
  return Math.max(1, Math.ceil((position * chatMinutes) / Math.max(1, view?.online.size ?? 1)));
}
