// A PM2 worker for the soak (tools/soak.sh): idles, except that while the file named by
// SOAK_CRASH_FILE exists it exits 1.5 s after each start: a crash loop that PM2 keeps
// restarting (each run outlives PM2's min_uptime of 1 s, so PM2 never gives up on it).
'use strict';
const fs = require('fs');
const crashFile = process.env.SOAK_CRASH_FILE;
if (crashFile && fs.existsSync(crashFile)) setTimeout(() => process.exit(1), 1500);
setInterval(() => {}, 60 * 1000);
