/**
 * A script's lines that kill the long-lived shell running it (shell.ts's loop), for the tests of a
 * shell killed during a command. The loop's shell is the farthest ancestor whose command line
 * holds the loop (the subshell that reads the reporter's pipe is a fork of it and holds it too):
 * found by name, not by counting parents, which missed it under load. When none is found nothing
 * is killed, the script ends with 0 and names the ancestors it walked on stderr.
 */
export const KILL_LOOP_SHELL = [
  'p=$PPID; s=; seen=',
  'while [ "$p" -gt 1 ]; do',
  '  seen="$seen $(ps -o pid=,args= -p "$p" | cut -c1-60)"',
  '  if grep -qa cutover_go "/proc/$p/cmdline" 2>/dev/null; then s=$p; fi',
  '  p=$(ps -o ppid= -p "$p" | tr -d " ")',
  'done',
  'if [ -n "$s" ]; then kill -KILL "$s"; sleep 1; else echo "no shell among:$seen" >&2; fi',
].join('\n')
