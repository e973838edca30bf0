import { describe, expect, it } from 'vitest';
import { bold, code, line, link, message, pre } from '../../src/bot/chat-text.js';
import { renderDiscordMarkdown } from '../../src/bot/discord/discord-markdown.js';
import { renderTelegramHtml } from '../../src/bot/telegram/telegram-html.js';
import { checkTelegramHtml } from '../fakes/telegram-html-check.js';

describe('chat text rendering', () => {
  const hostile = message(
    line('Deploy ', bold('a<b>&"c'), ' ', code('x`y<z>'), ' ', link('https://h.test/?a=1&b="2"', 'open <it>')),
    pre(['<script>alert(1)</script>', '```inside```', '**not bold** @everyone']),
  );

  it('escapes everything Telegram HTML treats as markup', () => {
    const html = renderTelegramHtml(hostile);
    expect(html).toContain('<b>a&lt;b&gt;&amp;&quot;c</b>');
    expect(html).toContain('<code>x`y&lt;z&gt;</code>');
    expect(html).toContain('<a href="https://h.test/?a=1&amp;b=&quot;2&quot;">open &lt;it&gt;</a>');
    expect(html).toContain('<pre>&lt;script&gt;');
    expect(() => checkTelegramHtml(html)).not.toThrow();
  });

  it('escapes Markdown for Discord and keeps code blocks closed', () => {
    const md = renderDiscordMarkdown(hostile);
    expect(md).toContain('**a<b>&"c**');
    expect(md).toContain('`xˋy<z>`');
    expect(md).toContain('[open <it>](<https://h.test/?a=1&b="2">)');
    expect(md.match(/```/g)).toHaveLength(2);
    expect(md).toContain('**not bold** @everyone');
    expect(renderDiscordMarkdown(message(line('*a* _b_ ~~c~~')))).toBe('\\*a\\* \\_b\\_ \\~\\~c\\~\\~');
  });

  it('keeps the newest lines within each limit', () => {
    const lines = Array.from({ length: 2_000 }, (_, i) => `line ${i} <&>`);
    const chat = message(line(bold('Logs')), pre(lines));
    const html = renderTelegramHtml(chat);
    expect(html.length).toBeLessThanOrEqual(4096);
    expect(checkTelegramHtml(html).length).toBeLessThanOrEqual(4096);
    expect(html).toContain('line 1999 &lt;&amp;&gt;');
    expect(html).toMatch(/… \d+ earlier lines not shown/);
    expect(html.startsWith('<b>Logs</b>')).toBe(true);
    const md = renderDiscordMarkdown(chat);
    expect(md.length).toBeLessThanOrEqual(2000);
    expect(md).toContain('line 1999 <&>');
    expect(md).not.toContain('line 0 ');
  });

  it('fits even a single enormous line', () => {
    const html = renderTelegramHtml(message(line('&'.repeat(10_000))));
    expect(html.length).toBeLessThanOrEqual(4096);
    expect(() => checkTelegramHtml(html)).not.toThrow();
    expect(renderDiscordMarkdown(message(line('x'.repeat(5_000)), line('tail'))).length).toBeLessThanOrEqual(2000);
  });
});
