/**
 * @module Everything the CLI renders with ink, in one module that is only ever imported dynamically
 * (ui/load.ts): ink, react and yoga cost ~40 MB of RSS, which `lw serve` and `--json` never need.
 */
import { render, renderToString, Text } from 'ink';
import { createElement } from 'react';
import { KeyReveal } from './KeyReveal.js';
import { Fields, Table } from './Table.js';
import { UsageSummary } from './UsageSummary.js';

export const kit = { render, renderToString, Text, createElement, Fields, Table, KeyReveal, UsageSummary };
