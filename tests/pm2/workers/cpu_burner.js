// A CPU-bound worker: spins in slices of ~500 ms, yielding to the event loop between
// slices only to print a numbered line, so it keeps one core near 100%.
'use strict';
let n = 0;
let x = 0;
function burn() {
  const until = Date.now() + 500;
  while (Date.now() < until) {
    for (let i = 0; i < 10000; i += 1) x = (x * 1103515245 + 12345) % 2147483648;
  }
  n += 1;
  console.log(`cpu_burner line ${n} x ${x}`);
  setImmediate(burn);
}
burn();
