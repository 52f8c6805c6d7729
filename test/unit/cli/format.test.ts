import { describe, expect, it } from 'vitest';
import { bar, formatInt, formatList, formatTime, formatUsd, plainFields, plainTable } from '../../../src/cli/format.js';
import { csvOrNone, interval, limit, since, usd, wholeNumber } from '../../../src/cli/options.js';

describe('format', () => {
  it('plainTable pads, right-aligns and trims', () => {
    const t = plainTable(
      [
        { header: 'NAME', value: (r: { n: string; c: number }) => r.n },
        { header: 'C', value: (r) => String(r.c), align: 'right' },
      ],
      [{ n: 'a', c: 10 }, { n: 'long-name', c: 2 }],
    );
    expect(t).toBe('NAME        C\na          10\nlong-name   2');
    expect(plainFields([['a', '1'], ['bbb', '']])).toBe('a:    1\nbbb:');
  });

  it('formats numbers, times, money and lists', () => {
    expect(formatInt(1234567)).toBe('1,234,567');
    expect(formatInt(null, 'unlimited')).toBe('unlimited');
    expect(formatTime('2025-01-02T03:04:05.678Z')).toBe('2025-01-02 03:04');
    expect(formatTime(null)).toBe('never');
    expect(formatUsd('0.15')).toBe('$0.15');
    expect(formatList([], 'all')).toBe('all');
    expect(formatList(['a', 'b'])).toBe('a, b');
  });

  it('bar draws eighths and always a sliver for non-zero values', () => {
    expect(bar(10, 10, 4)).toBe('████');
    expect(bar(5, 10, 4)).toBe('██');
    expect(bar(8, 16, 1)).toBe('▌');
    expect(bar(1, 1_000_000, 10)).toBe('▏');
    expect(bar(0, 10, 4)).toBe('');
    expect(bar(20, 10, 2)).toBe('██');
  });
});

describe('option schemas', () => {
  it('wholeNumber and limit', () => {
    expect(wholeNumber.parse('1_000,000')).toBe(1_000_000);
    expect(wholeNumber.safeParse('-1').success).toBe(false);
    expect(wholeNumber.safeParse('1.5').success).toBe(false);
    expect(wholeNumber.safeParse('99999999999999999999').success).toBe(false);
    expect(limit.parse('unlimited')).toBeNull();
    expect(limit.parse('none')).toBeNull();
    expect(limit.parse('60')).toBe(60);
  });

  it('usd, lists, since and interval', () => {
    expect(usd.parse('12.50')).toBe('12.50');
    expect(usd.safeParse('1e3').success).toBe(false);
    expect(csvOrNone.parse(' a, ,b ')).toEqual(['a', 'b']);
    expect(csvOrNone.parse('none')).toBeNull();
    expect(csvOrNone.safeParse(' , ').success).toBe(false);
    expect(since.parse('7d')).toBe('7d');
    expect(since.parse('2025-01-31')).toBe('2025-01-31');
    expect(since.safeParse('last week').success).toBe(false);
    expect(interval.parse('500ms')).toBe(500);
    expect(interval.parse('3')).toBe(3_000);
    expect(interval.parse('1m')).toBe(60_000);
    expect(interval.safeParse('100ms').success).toBe(false);
  });
});
