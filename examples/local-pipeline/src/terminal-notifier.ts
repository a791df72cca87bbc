import { renderTaskCard } from '@conveyor/adapter-telegram';
import { type Notifier, ok, type TaskCard } from '@conveyor/core';

/** Turns the Telegram card's HTML into terminal text. */
export function htmlToTerminal(html: string): string {
  return html
    .replace(/<a href="([^"]*)">([^<]*)<\/a>/g, '$2 ($1)')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/**
 * A {@link Notifier} that prints the task card — rendered by the Telegram
 * adapter's own renderer — to the terminal, once per visible change.
 */
export function createTerminalNotifier(print: (text: string) => void): Notifier & { readonly cards: () => number } {
  const last = new Map<string, string>();
  let printed = 0;
  return {
    cards: () => printed,
    async upsertCard(card: TaskCard) {
      const text = htmlToTerminal(renderTaskCard(card, { locale: 'en', parseMode: 'HTML' }));
      if (last.get(card.taskId) !== text) {
        last.set(card.taskId, text);
        printed += 1;
        print(
          text
            .split('\n')
            .map((line) => `  │ ${line}`)
            .join('\n'),
        );
      }
      return ok();
    },
    async removeCard(taskId: string) {
      last.delete(taskId);
      return ok();
    },
  };
}
