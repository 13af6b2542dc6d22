// A worker that fails at startup: prints a numbered line and an error, then exits
// non-zero after ~200 ms, so PM2 restarts it again and again. Starts shorter than PM2's
// min_uptime (1 s) count as unstable restarts.
'use strict';
console.log(`crash_loop starting pid ${process.pid}`);
setTimeout(() => {
  console.error(`crash_loop fatal: simulated startup failure (pid ${process.pid})`);
  process.exit(3);
}, 200);
