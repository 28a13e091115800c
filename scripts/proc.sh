# Shared by up.sh and down.sh. A process counts as running only if it exists, is not a zombie (a
# killed child nobody reaped still answers `kill -0`, and some container inits never reap), and runs
# node — so a pid reused by something else after a reboot is not mistaken for our role.
pid_running() {
  local pid=$1 state
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f1)
  [ "$state" != Z ] && [ "$state" != X ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q node
}
