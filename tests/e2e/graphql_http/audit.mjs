#!/usr/bin/env node
// GraphQL-over-HTTP compliance audit for a running GraphQL endpoint.
//
// Usage:  node audit.mjs http://127.0.0.1:8000/graphql
//
// Runs graphql-http's server audits (the same checks as `auditServer`) against
// the URL. Prints one line per audit, then one JSON summary line:
//
//   [ok]     4655 MUST accept application/json and match the content-type
//   [warn]   22EB SHOULD accept application/graphql-response+json ... :: <reason>
//   ...
//   {"total":61,"ok":N,"warn":N,"error":N,"notice":N,"failed":["22EB",...]}
//
// status: ok | warn (failed SHOULD) | error (failed MUST) | notice (failed MAY).
// "failed" lists the ids of every audit that is not ok.
// The exit code is always 0. The calling (Python) test decides what passes,
// using the last line of stdout.
//
// Each audit runs on its own. A fatal error (e.g. connection refused, timeout)
// marks only that audit as "error", so "total" is always the number of audits.
// Install first with `npm ci` in this folder.

import { serverAudits } from 'graphql-http';

const REQUEST_TIMEOUT_MS = Number(process.env.AUDIT_REQUEST_TIMEOUT_MS || 10000);

function oneLine(value) {
  return String(value).replace(/\s+/g, ' ').trim();
}

async function main() {
  const url = process.argv[2];
  const summary = { total: 0, ok: 0, warn: 0, error: 0, notice: 0, failed: [] };

  if (!url) {
    console.log('usage: node audit.mjs <graphql-endpoint-url>');
    console.log(JSON.stringify({ ...summary, fatal: 'missing URL argument' }));
    return;
  }

  // Same as `auditServer({ url, fetchFn: fetch })`, but each request has a timeout
  // and each audit's fatal errors are caught separately (auditServer uses Promise.all,
  // so one fatal error would reject the whole run).
  const fetchFn = (input, init = {}) =>
    fetch(input, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const audits = serverAudits({ url, fetchFn });

  const results = await Promise.all(
    audits.map(async ({ id, name, fn }) => {
      try {
        return await fn();
      } catch (err) {
        const cause = err && err.cause ? ` (${err.cause.code || err.cause.message || err.cause})` : '';
        return { id, name, status: 'error', reason: `fatal: ${err && err.message ? err.message : err}${cause}` };
      }
    }),
  );

  for (const result of results) {
    summary.total += 1;
    summary[result.status] = (summary[result.status] || 0) + 1;
    let line = `[${result.status}]`.padEnd(9) + `${result.id} ${result.name}`;
    if (result.status !== 'ok') {
      summary.failed.push(result.id);
      line += ` :: ${oneLine(result.reason)}`;
    }
    console.log(line);
  }

  console.log(JSON.stringify(summary));
}

main().catch((err) => {
  // Never fail the process: report and let the caller decide.
  console.log(`fatal: ${oneLine(err && err.stack ? err.stack : err)}`);
  console.log(JSON.stringify({ total: 0, ok: 0, warn: 0, error: 0, notice: 0, failed: [], fatal: oneLine(err) }));
});
