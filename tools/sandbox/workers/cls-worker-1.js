// The sandbox's cls-worker-1: "processes livestream data", and leaks: every second it
// handles a batch of livestream chunks, keeps LEAK_KB_PER_S of them in a cache that is
// never cleaned (the guide's Issue 5: memory grows every hour), and drops the rest, so
// memory shows a GC sawtooth on a rising floor. The cache stops growing at LEAK_CAP_MB
// so a long --follow run stays bounded. The cached buffers are written, so their pages
// are resident and show in RSS (PM2's monit.memory). With the default 512 KiB/s the RSS
// grows about 2.5-3.5 GiB/h (the transient buffers add to it): from under 100 MB the
// 4 GiB limit is about 1.5 h away, the operator's case of issue 14 that offmon must warn
// about within the demo's first minute (MemoryLeak's steady horizon,
// docs/memory-leak-detection.md); the cap is reached after about 17 minutes, and the
// warning then resolves.
'use strict';
const leakKbPerSecond = Number(process.env.LEAK_KB_PER_S || 512);
const capMb = Number(process.env.LEAK_CAP_MB || 512);
const cache = [];
let cachedBytes = 0;
let processed = 0;
let scratch = [];

setInterval(() => {
  // Transient work: a few MiB allocated and dropped (the sawtooth).
  scratch.push(Buffer.alloc(512 * 1024, processed % 251));
  if (scratch.length > 8) scratch = [];
  processed += 1;
  if (cachedBytes < capMb * 1024 * 1024) {
    const chunk = Buffer.alloc(leakKbPerSecond * 1024);
    chunk.fill(processed % 251 + 1);
    cache.push(chunk);
    cachedBytes += chunk.length;
  }
  if (processed % 10 === 0) {
    console.log(`cls-worker-1: processed ${processed} livestream batches; cache holds ${cache.length} entries ` +
      `(${(cachedBytes / 1048576).toFixed(1)} MB), never evicted`);
  }
}, 1000);
console.log(`cls-worker-1 starting, pid ${process.pid}`);
