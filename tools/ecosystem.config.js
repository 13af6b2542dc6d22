// offmon as a PM2 app, next to the workers it watches. Start it from the directory that
// holds offmon.toml and the .env with DATABASE_URL (the daemon reads both from its cwd):
//
//   pm2 start tools/ecosystem.config.js     # or merge this entry into the pipeline's own file
//   pm2 save                                # so `pm2 resurrect` / pm2's startup unit bring it back
//   pm2 sendSignal SIGHUP offmon            # reload offmon.toml without a restart
//   pm2 logs offmon                         # stderr; the full log is [log] file (var/monitor.log)
//
// Caveat: a monitor inside the supervisor it monitors goes down with it. If the PM2
// daemon dies, this offmon dies too and nobody reports it; prefer tools/offmon.service
// (systemd) where you can, or run tools/start-monitor.sh as well (docs/operations.md).
'use strict';
const path = require('path');

const root = path.resolve(__dirname, '..');
const binary = process.env.OFFMON || path.join(root, 'build', 'offmon');

module.exports = {
  apps: [
    {
      name: 'offmon',
      script: binary,
      interpreter: 'none',  // a native binary, not JavaScript
      args: ['--config', process.env.OFFMON_CONFIG || path.join(root, 'offmon.toml'), 'collect'],
      cwd: root,            // where .env, var/offmon.db and var/monitor.log are found
      autorestart: true,
      restart_delay: 10000,
      // Exit codes a restart cannot fix: bad command line (2), store from a newer offmon
      // (10), not an offmon store (11), corrupt store (12), malformed config (14).
      stop_exit_codes: [2, 10, 11, 12, 14],
      // PM2 stops with SIGINT; offmon finishes the writes in progress and exits. Give it time.
      kill_timeout: 30000,
      // offmon's own footprint is ~20 MB; this only catches a runaway.
      max_memory_restart: '200M',
      time: true,           // timestamps on the lines pm2 logs
      env: {
        NODE_ENV: 'production',
      },
    },
  ],
};
