# Sourced by the gateway benchmarks: starts servers pinned to a core and stops them, by pid.
#
#   start CORE LOG COMMAND…  starts COMMAND on CORE (taskset) with its output in LOG, waits for
#                            its "listening on HOST:PORT" line, and sets PORT and PID. Each Swift
#                            server runs one NIO event loop on its one core (NIO counts the
#                            machine's cores, not the affinity; brownout-gateway counts the
#                            affinity itself, the mock and the floor are told the same way).
#   stop_servers             stops every server `start` started (and any pid added to PIDS):
#                            SIGTERM, then SIGKILL after 5 s (a Swift server's graceful shutdown
#                            can hang: swift-async-algorithms' merge, used by
#                            swift-service-lifecycle, can deadlock a single event loop —
#                            apple/swift-async-algorithms#430).
PIDS=()

start() {
  local core=$1 log=$2; shift 2
  NIO_SINGLETON_GROUP_LOOP_COUNT=1 taskset -c "$core" "$@" > "$log" 2>&1 &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 1 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
  PORT=$(grep '^listening on' "$log" | grep -o '[0-9]*$' | head -1 || true)
  [ -n "$PORT" ] || { echo "$* did not start listening within 10 s; its log:" >&2; cat "$log" >&2; return 1; }
}

stop_servers() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
}
