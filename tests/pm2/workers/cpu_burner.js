// A CPU-bound worker: spins in slices of ~500 ms, yielding to the event loop between
// slices only to print a numbered line. BURNER_THREADS (default 1) threads spin, so a
// test on a busy machine can still see it well above one core's half.
'use strict';
const { Worker, isMainThread } = require('worker_threads');

function spin(x) {
  const until = Date.now() + 500;
  while (Date.now() < until) {
    for (let i = 0; i < 10000; i += 1) x = (x * 1103515245 + 12345) % 2147483648;
  }
  return x;
}

if (isMainThread) {
  const threads = Math.max(1, Number(process.env.BURNER_THREADS || 1));
  for (let t = 1; t < threads; t += 1) new Worker(__filename);
  let n = 0;
  let x = 1;
  const slice = () => {
    x = spin(x);
    n += 1;
    console.log(`cpu_burner line ${n} x ${x}`);
    setImmediate(slice);
  };
  slice();
} else {
  let x = 2;
  const slice = () => {
    x = spin(x);
    setImmediate(slice);
  };
  slice();
}
