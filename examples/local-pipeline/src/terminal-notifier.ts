import { renderTaskCard } from '@conveyor/adapter-telegram';
import { type Notifier, ok, type TaskCard } from '@conveyor/core';

/**
 * A {@link Notifier} that prints the task card — rendered by the Telegram
 * adapter's own renderer, in plain text — to the terminal, once per visible change.
 */
export function createTerminalNotifier(print: (text: string) => void): Notifier & { readonly cards: () => number } {
  const last = new Map<string, string>();
  let printed = 0;
  return {
    cards: () => printed,
    async upsertCard(card: TaskCard) {
      const text = renderTaskCard(card, { locale: 'en', parseMode: 'plain' });
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
