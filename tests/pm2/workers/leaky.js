// A leaking worker: retains ~1 MiB more every 200 ms (about 5 MiB/s) up to a cap
// (LEAKY_CAP_MB, default 400), then holds steady. The buffers are written so their pages
// are resident and show in RSS, the figure PM2 reports as monit.memory.
'use strict';
const capMb = Number(process.env.LEAKY_CAP_MB || 400);
const retained = [];
setInterval(() => {
  if (retained.length < capMb) {
    const chunk = Buffer.alloc(1024 * 1024);
    chunk.fill(retained.length % 251 + 1);
    retained.push(chunk);
  }
  console.log(`leaky line ${retained.length} retained_mb ${retained.length}`);
}, 200);
