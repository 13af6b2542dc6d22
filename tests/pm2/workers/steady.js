// A healthy worker: stays up, does a little work and prints a numbered line every
// 100 ms (stdout), with a numbered warning every other line (stderr), so log-tail tests
// can check they got the newest, consecutive lines.
'use strict';
let n = 0;
let checksum = 0;
setInterval(() => {
  n += 1;
  for (let i = 0; i < 1000; i += 1) checksum = (checksum * 31 + i) % 1000003;
  console.log(`steady line ${n} checksum ${checksum}`);
  if (n % 2 === 0) console.error(`steady warning ${n / 2}`);
}, 100);
