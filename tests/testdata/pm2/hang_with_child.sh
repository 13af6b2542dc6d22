#!/bin/sh
# Writes "<own pid> <child pid>" to the file $1, then waits on a child sleeping for a
# minute: a hung program with a helper, for the runner's timeout test.
sleep 60 &
echo "$$ $!" >"$1"
wait
