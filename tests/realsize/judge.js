#!/usr/bin/env node
// The verdicts of tests/realsize/realsize_test.sh on one daemon's store, from
// `offmon report --json` (REPORT) and `offmon alerts --json` (HISTORY):
//
//   judge.js seen SCENARIO REPORT [CHANNELS]
//       exit 0 when every alert SCENARIO expects is active (firing, or pending where the
//       rule's `for` is longer than the test: DatabaseSlow) with its evidence, else 1;
//       prints what is still missing, one line each. CHANNELS (comma-separated): the
//       database's channels, each of which must have a baseline in the report.
//   judge.js unexpected SCENARIO REPORT HISTORY
//       prints every WARNING or CRITICAL alert that fired (HISTORY) and is neither
//       expected, nor seeded in the sandbox, nor explained by an expected cause
//       (inhibited_by), nor about the host rather than the pipeline; exit 0 always.
//
// Scenarios (the test's header says what each injects):
//   live    the live feed's database, 700 ms slower: the seeded incidents, DatabaseSlow,
//           a baseline for every channel and the seeded ParticipantDrop
//   quiet   the aggregator silent for over an hour: EventRateLow, ZeroParticipants
//   locked  sealed_epochs locked by another session: CollectorFailing "locked",
//           DatabaseSlow
'use strict';
const fs = require('fs');

const [mode, scenario, reportFile, extra] = process.argv.slice(2);
const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
// The seeded incidents of tools/sandbox/workers/channels.js, on every copy of the database.
const { INCIDENTS } = require('../../tools/sandbox/workers/channels');
const ZERO_CHANNEL = 'train';  // the quiet database's channel with an empty newest epoch

const labelsMatch = (labels, want) => Object.entries(want).every(([k, v]) => (labels || {})[k] === v);
const active = (name, want, { pending = false } = {}) => report.alerts.find(
  (a) => a.alert === name && labelsMatch(a.labels, want) && (a.state !== 'pending' || pending));
const value = (reading) => (reading && typeof reading.value === 'number' ? reading.value : null);

// [description, check() -> true or a reason] per scenario.
const EXPECTED = {
  live: [
    ['EpochUnpublished{channel="' + INCIDENTS.unpublishedChannel + '"}',
      () => !!active('EpochUnpublished', { channel: INCIDENTS.unpublishedChannel })],
    ['EpochMissing{channel="' + INCIDENTS.missingChannel + '"}',
      () => !!active('EpochMissing', { channel: INCIDENTS.missingChannel })],
    ['ParticipantDrop{channel="' + INCIDENTS.dropChannel + '"}',
      () => !!active('ParticipantDrop', { channel: INCIDENTS.dropChannel })],
    ['DatabaseSlow (pending or firing) with a response of 700 ms or more', () => {
      const response = value(report.database.response_seconds);
      if (!active('DatabaseSlow', {}, { pending: true })) return `no DatabaseSlow; response ${response} s`;
      return response !== null && response >= 0.7 ? true : `response_seconds ${response}`;
    }],
  ],
  quiet: [
    ['EventRateLow WARNING (fewer than 100 events in the last hour)', () => {
      const a = active('EventRateLow', {});
      const events = value(report.database.events_last_hour);
      if (!a) return `no EventRateLow; events_last_hour ${events}`;
      return a.severity === 'WARNING' && events !== null && events >= 1 && events < 100
        ? true : `${a.severity}, events_last_hour ${events}`;
    }],
    [`ZeroParticipants{channel="${ZERO_CHANNEL}"}`, () => !!active('ZeroParticipants', { channel: ZERO_CHANNEL })],
  ],
  locked: [
    ['CollectorFailing{collector="postgres"} saying "locked"', () => {
      const a = active('CollectorFailing', { collector: 'postgres' });
      if (!a) return 'no CollectorFailing{collector="postgres"}';
      return /locked/.test(a.summary) ? true : `summary: ${a.summary}`;
    }],
    ['DatabaseSlow (pending or firing) with the lock wait as response time', () => {
      const response = value(report.database.response_seconds);
      if (!active('DatabaseSlow', {}, { pending: true })) return `no DatabaseSlow; response ${response} s`;
      return response !== null && response >= 1.5 ? true : `response_seconds ${response}`;
    }],
  ],
};
if (!EXPECTED[scenario]) throw new Error(`unknown scenario ${scenario}`);

if (mode === 'seen') {
  const missing = [];
  for (const [what, check] of EXPECTED[scenario]) {
    const verdict = check();
    if (verdict !== true) missing.push(`${what}${typeof verdict === 'string' ? ` (${verdict})` : ''}`);
  }
  if (extra) {
    for (const channel of extra.split(',')) {
      const row = report.channels.find((c) => c.channel === channel);
      if (!row || !row.baseline) missing.push(`a baseline for channel ${channel}`);
    }
  }
  if (missing.length > 0) process.stdout.write(missing.join('\n') + '\n');
  process.exit(missing.length > 0 ? 1 : 0);
}

if (mode === 'unexpected') {
  const history = JSON.parse(fs.readFileSync(extra, 'utf8'));
  const seeded = (a) => (a.alert === 'ParticipantDrop' && a.labels.channel === INCIDENTS.dropChannel) ||
    (a.alert === 'EpochUnpublished' && a.labels.channel === INCIDENTS.unpublishedChannel) ||
    (a.alert === 'EpochMissing' && a.labels.channel === INCIDENTS.missingChannel);
  const expected = {
    live: (a) => seeded(a) || a.alert === 'DatabaseSlow',
    // Data that stopped flowing explains drops and empty epochs (inhibited_by EventRateLow).
    quiet: (a) => seeded(a) || a.alert === 'EventRateLow' ||
      (a.alert === 'ZeroParticipants' && a.labels.channel === ZERO_CHANNEL) ||
      (a.inhibited_by || '').includes('EventRateLow'),
    locked: (a) => (a.alert === 'CollectorFailing' && a.labels.collector === 'postgres') || a.alert === 'DatabaseSlow',
  }[scenario];
  // The host's own resources (a machine busy with other builds) are not the pipeline's.
  const host = new Set(['DiskSpaceLow', 'SystemMemoryLow', 'CpuHigh']);
  const out = new Set();
  for (const a of [...history.alerts, ...report.alerts.filter((x) => x.state !== 'pending')]) {
    if (a.severity !== 'WARNING' && a.severity !== 'CRITICAL') continue;
    if (expected(a) || (host.has(a.alert) && !(a.labels || {}).process)) continue;
    out.add(`${a.alert}${JSON.stringify(a.labels)} ${a.severity}: ${a.summary}`);
  }
  if (out.size > 0) process.stdout.write([...out].join('\n') + '\n');
  process.exit(0);
}
throw new Error(`unknown mode ${mode}`);
