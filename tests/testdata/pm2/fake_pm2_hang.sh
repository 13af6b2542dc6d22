#!/bin/sh
# A pm2 that hangs, as one stuck on an unresponsive daemon does: prints a line, then
# waits on a child that sleeps for a minute.
echo "[PM2] connecting"
sleep 60 &
wait
