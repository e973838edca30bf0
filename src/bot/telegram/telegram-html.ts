import { renderWithin, type BlockRenderer, type ChatMessage, type Span } from '../chat-text.js';

/** Telegram's limit for one message's text (https://core.telegram.org/bots/api#sendmessage). */
export const TELEGRAM_TEXT_LIMIT = 4096;

/** Escapes text for `parse_mode: HTML`: only `<`, `>`, `&` (and `"` inside attributes) are special. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const htmlRenderer: BlockRenderer = {
  renderSpan(span: Span): string {
    if (typeof span === 'string') return escapeHtml(span);
    if ('bold' in span) return `<b>${escapeHtml(span.bold)}</b>`;
    if ('italic' in span) return `<i>${escapeHtml(span.italic)}</i>`;
    if ('code' in span) return `<code>${escapeHtml(span.code)}</code>`;
    return `<a href="${escapeHtml(span.link)}">${escapeHtml(span.label ?? span.link)}</a>`;
  },
  renderPre(lines: string[]): string {
    return `<pre>${escapeHtml(lines.join('\n'))}</pre>`;
  },
};

/**
 * Renders for `parse_mode: HTML` within Telegram's limit. The limit counts
 * visible characters; measuring the markup too keeps us safely under it.
 */
export function renderTelegramHtml(chat: ChatMessage, limit = TELEGRAM_TEXT_LIMIT): string {
  return renderWithin(chat, htmlRenderer, limit);
}
