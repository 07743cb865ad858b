#!/bin/bash
# The acceptance trial of the Kubernetes manifests, in podman (README.md explains it).
#
#   trial.sh run SRC_DIR OVERLAY LABEL [--allow-net CIDR] [--phases "p1 p2 ..."] [--keep]
#       SRC_DIR: a copy of the repository (git archive); OVERLAY: the directory, relative to
#       SRC_DIR, that `kubectl kustomize` renders (k8s, or the demo overlay); LABEL names the
#       run's directory ($SCRATCH/runs/LABEL: trial.log, summary.txt, rendered manifests).
#       --allow-net: render through a scratch overlay that sets this pod network instead of
#       the one the manifests give (to run the later checks when the shipped one refuses it).
#       Phases, in order (default: all): up identity slots probes sticky scale memory ghost
#       outage sigterm.
#   trial.sh src GIT_DIR REV   # a copy of REV's tree at $SCRATCH/src-<short rev> (git archive); prints it
#   trial.sh down              # removes every pod, the controller and the cluster DNS
set -uo pipefail
. "$(dirname "$0")/lib.sh"
KP="$HERE/kube-pods.py"
export SCRATCH RUNTIME NETWORK DNS_IP ZONE NAMESPACE

# --- recording -----------------------------------------------------------------------------
RUN="" LOG=/dev/null SUMMARY=/dev/null
log() { printf '%s\n' "$*" | tee -a "$LOG"; }
# rec 'command': the command, then what it printed, into the log.
rec() {
  printf '$ %s\n' "$1" >>"$LOG"
  eval "$1" 2>&1 | tee -a "$LOG"
  return "${PIPESTATUS[0]}"
}
result() { # PASS|FAIL|INFO name detail...
  local r="$1" name="$2"
  shift 2
  printf '%-4s %-28s %s\n' "$r" "$name" "$*" | tee -a "$LOG" >>"$SUMMARY"
  printf '%s %-4s %-28s %s\n' "$(date +%H:%M:%S)" "$r" "$name" "$*" >&2
}
phase() { log ""; log "=== $(date +%H:%M:%S) $* ==="; }
wait_until() { # seconds command...: 0 as soon as the command succeeds
  local end=$((SECONDS + $1))
  shift
  while ((SECONDS < end)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 1
  done
  return 1
}

# --- the cluster -----------------------------------------------------------------------------
controller_start() {
  controller_stop
  "$HERE/endpoints.sh" run "$RENDERED" >>"$RUN/controller.log" 2>&1 &
  echo $! >"$SCRATCH/controller.pid"
}
controller_stop() {
  if [ -s "$SCRATCH/controller.pid" ]; then
    kill "$(cat "$SCRATCH/controller.pid")" 2>/dev/null
    rm -f "$SCRATCH/controller.pid"
  fi
}
pods_of() { p pod ps --filter "label=trial.deployment=$1" --format '{{.Name}}' | sort -V; }
all_down() {
  controller_stop
  for pod in $(p pod ps --filter label=trial.deployment --format '{{.Name}}'); do
    p pod rm --force "$pod" >/dev/null 2>&1
  done
  p volume prune --force --filter label=trial.pod >/dev/null 2>&1
  "$HERE/cluster-dns.sh" remove
  rm -rf "$SCRATCH/pods" "$SCRATCH/terminating"
}
ip() { cat "$SCRATCH/pods/$1/ip"; }
web_ips() { for pod in $(pods_of "$WEB_DEPLOY"); do [ -e "$SCRATCH/terminating/$pod" ] || ip "$pod"; done | sort -V; }
haproxy_pods() { pods_of "$HAPROXY_DEPLOY"; }
sock() { echo "$(p volume inspect --format '{{.Mountpoint}}' "$1-$SOCKET_VOLUME")/$(basename "$SOCKET")"; }
hap() { echo "$2" | socat -t 5 - "UNIX-CONNECT:$(sock "$1")"; }
# be_web's servers as HAProxy sees them: "srvN addr status", from show stat.
servers() {
  hap "$1" "show stat" | python3 -c '
import csv, sys
rows = list(csv.reader(l.lstrip("# ") for l in sys.stdin if l.strip()))
h = rows[0]
for r in rows[1:]:
    d = dict(zip(h, r))
    if d["pxname"] == sys.argv[1] and d["svname"] not in ("FRONTEND", "BACKEND"):
        print(d["svname"], d.get("addr", "?"), d["status"])' "${2:-be_web}"
}
# addresses of be_web's servers in a given status (UP, DRAIN, MAINT...), sorted
servers_in() { servers "$1" | awk -v s="$2" '$3 ~ "^"s {sub(/:[0-9]+$/, "", $2); print $2}' | sort -V; }
slots_match() { # every replica: the UP servers are exactly the pods in DNS
  local want
  want="$(web_ips)"
  for h in $(haproxy_pods); do [ "$(servers_in "$h" UP)" = "$want" ] || return 1; done
}
dns_has() { [ "$(dig +short SRV "_http._tcp.$WEB_SERVICE.$NAMESPACE.svc.$ZONE" "@$DNS_IP" | wc -l)" = "$1" ]; }
code() { curl -s -o /dev/null --max-time 3 -w '%{http_code}' "$1"; }
agent_url() { echo "http://$(ip "$1"):$AGENT_PORT$2"; }
# Which pod served: its address, from the stand-in nginx's X-Server-Addr header, or from the
# body when it is a pod's name (the demo's nginx.conf answers with $hostname).
who() { # curl output: body, then a last line "code header"
  local out="$1" last body
  last="$(tail -n1 <<<"$out")"
  body="$(head -n -1 <<<"$out" | tr -d '\r' | head -c 200)"
  if [ -n "${last#* }" ]; then
    echo "$last"
  elif [ -n "$body" ] && [ -s "$SCRATCH/pods/$body/ip" ]; then
    echo "${last%% *} $(ip "$body")"
  else
    echo "${last%% *} ?"
  fi
}
# One request of a client (its cookie jar) through a replica: prints "code pod-address".
req() { who "$(curl -s --max-time 5 -c "$RUN/jars/$1" -b "$RUN/jars/$1" -w '\n%{http_code} %header{x-server-addr}' "http://$(ip "$2"):8080/")"; }
# A request without a cookie.
req_new() { who "$(curl -s --max-time 5 -w '\n%{http_code} %header{x-server-addr}' "http://$(ip "$1"):8080/")"; }

web_up() { # next N web pods
  local n="$1" i
  for ((k = 0; k < n; k++)); do
    WEB_NEXT=$((WEB_NEXT + 1))
    i="$WEB_DEPLOY-$WEB_NEXT"
    rec "$KP up $RENDERED $WEB_DEPLOY $i" >/dev/null
    log "pod $i $(ip "$i")"
  done
}
haproxy_up() {
  local r="$1"
  for ((k = 1; k <= HAPROXY_REPLICAS; k++)); do
    rec "$KP up $r $HAPROXY_DEPLOY $HAPROXY_DEPLOY-$k" >/dev/null
    log "pod $HAPROXY_DEPLOY-$k $(ip "$HAPROXY_DEPLOY-$k")"
  done
}
none_exist() { for pod in "$@"; do p pod exists "$pod" && return 1; done; return 0; }
haproxy_down() { for h in $(haproxy_pods); do "$KP" down "$h" 5 >/dev/null 2>&1; done; }

# --- phases ----------------------------------------------------------------------------------
ph_up() {
  phase "up: cluster DNS, endpoints controller, $WEB_REPLICAS web pods, $HAPROXY_REPLICAS haproxy pods"
  all_down
  rec "$HERE/cluster-dns.sh start"
  controller_start
  WEB_NEXT=0
  web_up "$WEB_REPLICAS"
  haproxy_up "$RENDERED"
  wait_until 30 dns_has "$WEB_REPLICAS" && result INFO dns "$WEB_REPLICAS SRV records published" ||
    result FAIL dns "the controller did not publish $WEB_REPLICAS SRV records"
  rec "dig +noall +answer SRV _http._tcp.$WEB_SERVICE.$NAMESPACE.svc.$ZONE @$DNS_IP"
  rec "p exec $HAPROXY_DEPLOY-1-$HAPROXY_CTR cat /etc/resolv.conf"
  wait_until 20 test -S "$(sock "$HAPROXY_DEPLOY-1")"
  sleep 5
  rec "p ps --filter label=trial.container --format '{{.Names}} {{.Status}}'"
}

ph_identity() {
  phase "identity: who opens the admin socket"
  local h="$HAPROXY_DEPLOY-1" pid s
  rec "p exec $h-$HAPROXY_CTR ls -ln $(dirname "$SOCKET")"
  s="$(stat -c '%a %u:%g' "$(sock "$h")")"
  rec "stat -c '%A %a %u:%g %n' $(sock "$h")"
  pid="$(p inspect --format '{{.State.Pid}}' "$h-$AGENT_CTR")"
  rec "p top $h-$AGENT_CTR pid user group args"
  rec "p top $h-$HAPROXY_CTR pid user group args"
  rec "grep -E '^(Uid|Gid|Groups):' /proc/$pid/status"
  local creds
  creds="$(awk '/^Uid:/{u=$2} /^Gid:/{g=$2} /^Groups:/{$1=""; gs=$0} END{print u, g, gs}' "/proc/$pid/status" | tr -s ' ')"
  if command -v strace >/dev/null; then
    rec "timeout 3 strace -f -qq -e trace=connect -p $pid 2>&1 | grep -m2 AF_UNIX"
  fi
  [ "$s" = "660 99:1000" ] && result PASS socket-file "admin.sock mode 660 owner 99:1000" ||
    result FAIL socket-file "admin.sock is $s (expected 660 99:1000)"
  # uid 65532, and group 1000 (the socket's) as its group or one of its supplementary groups.
  if [[ "$creds" =~ ^65532\ ([0-9]+)\ (.*)$ ]] && [[ " ${BASH_REMATCH[1]} ${BASH_REMATCH[2]} " == *" 1000 "* ]]; then
    result PASS agent-identity "agent runs as uid 65532, gid ${BASH_REMATCH[1]}, groups ${BASH_REMATCH[2]% }: in group 1000"
  else
    result FAIL agent-identity "agent runs as uid gid groups: $creds (expected uid 65532 in group 1000)"
  fi
  local ok
  ok="$(curl -s "$(agent_url "$h" /metrics)" | grep -E '^haproxy_dns_agent_runtime_commands_total\{.*result="ok"' | awk '{s+=$2} END{print s+0}')"
  log "runtime commands acknowledged (metric): $ok"
  rec "p exec $h-$AGENT_CTR /bin/sh -c true; echo exit \$?"
}

ph_slots() {
  phase "slots: HAProxy's be_web on every replica holds the web pods"
  local want
  if wait_until 30 slots_match; then
    result PASS slots "both replicas: UP servers = the $(web_ips | wc -l) web pods ($(web_ips | tr '\n' ' '))"
  else
    result FAIL slots "the replicas' UP servers differ from the web pods in DNS ($(web_ips | tr '\n' ' '))"
  fi
  for h in $(haproxy_pods); do
    rec "echo 'show servers state be_web' | socat - UNIX-CONNECT:$(sock "$h") | awk 'NR<=2 || \$5 != \"127.0.0.1\"' | cut -d' ' -f1-8"
    rec "servers $h | grep -v MAINT; servers $h | grep -c MAINT"
  done
  rec "curl -s -u admin:$STATS_PASSWORD 'http://$(ip "$HAPROXY_DEPLOY-1"):8404/;csv' | cut -d, -f1,2,18,74 | grep -E '^(# |be_web)' | grep -v MAINT"
  rec "p logs $HAPROXY_DEPLOY-1-$AGENT_CTR 2>&1 | grep -E 'refused|not-allowed' | head -3 | cut -c1-300"
}

ph_probes() {
  phase "probes: /readyz and /healthz on every replica"
  local bad=0 r z
  for h in $(haproxy_pods); do
    r="$(code "$(agent_url "$h" /readyz)")"
    z="$(code "$(agent_url "$h" /healthz)")"
    rec "curl -s -w ' [%{http_code}]\n' $(agent_url "$h" /readyz)"
    rec "curl -s -w ' [%{http_code}]\n' $(agent_url "$h" /healthz)"
    [ "$r $z" = "200 200" ] || bad=1
  done
  [ $bad = 0 ] && result PASS probes "/readyz 200 and /healthz 200 on every replica" ||
    result FAIL probes "a replica's /readyz or /healthz is not 200"
}

CLIENTS=6
client_pod() { awk -v c="$1" '$1==c{print $2}' "$RUN/clients"; }
ph_sticky() {
  phase "sticky: a client keeps its pod through both replicas"
  mkdir -p "$RUN/jars"
  rm -f "$RUN/jars"/* "$RUN/clients"
  local h1="$HAPROXY_DEPLOY-1" h2="$HAPROXY_DEPLOY-2" bad=0 a b c
  for ((c = 1; c <= CLIENTS; c++)); do
    a="$(req "c$c" "$h1")"
    b="$(req "c$c" "$h2")"
    log "client c$c: via $h1 -> $a, then via $h2 -> $b"
    echo "c$c ${a#* }" >>"$RUN/clients"
    [ "${a%% *}" = 200 ] && [ "$a" = "$b" ] || bad=1
  done
  rec "cat $RUN/jars/c1 | grep -v '^#' | grep ."
  rec "awk '{print \$2}' $RUN/clients | sort | uniq -c"
  [ $bad = 0 ] && result PASS sticky "$CLIENTS clients: the same pod through replica 1 then replica 2" ||
    result FAIL sticky "a client reached another pod (or an error) through replica 2"
}

clients_check() { # label: every client through both replicas; its pod must be the recorded one
  local label="$1" bad=0 a b c
  for ((c = 1; c <= CLIENTS; c++)); do
    a="$(req "c$c" "$HAPROXY_DEPLOY-1")"
    b="$(req "c$c" "$HAPROXY_DEPLOY-2")"
    log "$label: client c$c (pod $(client_pod "c$c")): $a / $b"
    [ "$a" = "200 $(client_pod "c$c")" ] && [ "$b" = "$a" ] || bad=1
  done
  return $bad
}

ph_scale() {
  phase "scale web ${WEB_REPLICAS} -> 5"
  web_up $((5 - $(pods_of "$WEB_DEPLOY" | wc -l)))
  wait_until 30 dns_has 5 || result FAIL scale-dns "DNS did not reach 5 pods"
  if wait_until 30 slots_match; then
    result PASS scale-up-slots "both replicas: 5 UP servers = the 5 pods"
  else
    result FAIL scale-up-slots "the replicas do not show the 5 pods UP"
  fi
  for h in $(haproxy_pods); do rec "servers $h | grep -v MAINT"; done
  clients_check "after 3->5" && result PASS scale-up-sticky "every client kept its pod" ||
    result FAIL scale-up-sticky "a client changed pod on scale-up"
  local seen c
  seen="$(for ((c = 1; c <= 10; c++)); do req_new "$HAPROXY_DEPLOY-$((c % 2 + 1))"; done | sort -u | wc -l)"
  result INFO scale-up-spread "10 new clients reached $seen distinct pods"

  phase "scale web 5 -> 2: pods leave DNS first, stop after their preStop (sleep 35)"
  local pods keep=() leave=() pod
  mapfile -t pods < <(pods_of "$WEB_DEPLOY")
  keep=("${pods[1]}" "${pods[3]}")
  for pod in "${pods[@]}"; do [[ " ${keep[*]} " == *" $pod "* ]] || leave+=("$pod"); done
  log "keep ${keep[*]} ($(for k in "${keep[@]}"; do ip "$k"; done | tr '\n' ' ')); leave ${leave[*]} ($(for k in "${leave[@]}"; do ip "$k"; done | tr '\n' ' '))"
  local live gone
  live="$(for k in "${keep[@]}"; do ip "$k"; done)"
  gone="$(for k in "${leave[@]}"; do ip "$k"; done)"
  local t0=$SECONDS
  for pod in "${leave[@]}"; do "$HERE/endpoints.sh" terminate "$pod"; done
  wait_until 15 dns_has 2 && log "DNS has 2 pods after $((SECONDS - t0)) s" || result FAIL scale-down-dns "DNS did not drop to 2 pods"
  for pod in "${leave[@]}"; do ("$KP" down "$pod" >>"$RUN/down.log" 2>&1 &); done
  sleep 8
  for h in $(haproxy_pods); do rec "servers $h | grep -v MAINT"; done
  local drain_ok=1
  for h in $(haproxy_pods); do
    [ "$(servers_in "$h" DRAIN)" = "$(echo "$gone" | sort -V)" ] || drain_ok=0
    [ "$(servers_in "$h" UP)" = "$(echo "$live" | sort -V)" ] || drain_ok=0
  done
  [ $drain_ok = 1 ] && result PASS scale-down-drain "both replicas: the 3 leaving pods in DRAIN, the 2 others UP" ||
    result FAIL scale-down-drain "the leaving pods are not all in DRAIN (or the others not UP)"
  clients_check "draining (pods alive)" && result PASS drain-sticky "every client still reaches its pod while it drains" ||
    result FAIL drain-sticky "a client left its pod while the pod drained and still served"
  log "waiting for the leaving pods to stop (preStop 35 s, then SIGQUIT)"
  wait_until 90 none_exist "${leave[@]}"
  log "pods gone $((SECONDS - t0)) s after they left DNS"
  sleep 8
  for h in $(haproxy_pods); do rec "servers $h | grep -v MAINT"; done
  local bad=0 c a b was
  for ((c = 1; c <= CLIENTS; c++)); do
    was="$(client_pod "c$c")"
    a="$(req "c$c" "$HAPROXY_DEPLOY-1")"
    b="$(req "c$c" "$HAPROXY_DEPLOY-2")"
    if echo "$live" | grep -qx "$was"; then
      log "client c$c, pod $was lives: $a / $b"
      [ "$a" = "200 $was" ] && [ "$b" = "$a" ] || bad=1
    else
      log "client c$c, pod $was left: $a / $b (redispatched, then sticky to its new pod)"
      [ "${a%% *}" = 200 ] && echo "$live" | grep -qx "${a#* }" && [ "$b" = "$a" ] || bad=1
      sed -i "s/^c$c .*/c$c ${a#* }/" "$RUN/clients"
    fi
  done
  [ $bad = 0 ] && result PASS scale-down-sticky "clients of live pods stayed; clients of gone pods redispatched to a live pod, then sticky" ||
    result FAIL scale-down-sticky "a client of a live pod moved, or a client of a gone pod got no live pod"
  if wait_until 30 slots_match; then result PASS scale-down-slots "both replicas: 2 UP servers = the 2 pods"; else result FAIL scale-down-slots "UP servers differ from the 2 pods"; fi
}

ph_memory() {
  phase "memory of the agent at rest"
  sleep 20
  local h pid
  for h in $(haproxy_pods); do
    pid="$(p inspect --format '{{.State.Pid}}' "$h-$AGENT_CTR")"
    rec "grep -E '^(VmRSS|VmHWM|RssAnon|RssFile):' /proc/$pid/status | tr -s ' ' | tr '\n' ' '; echo"
    result INFO memory "$h agent: $(awk '/^VmRSS:/{r=$2} /^VmHWM:/{h=$2} END{printf "VmRSS %.1f MiB, VmHWM %.1f MiB", r/1024, h/1024}' "/proc/$pid/status")"
  done
  rec "p stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.CPUPerc}}' $(for h in $(haproxy_pods); do echo -n "$h-$AGENT_CTR "; done)"
}

# The haproxy pods again, from a scratch overlay on top of what was rendered (in the run's
# directory, never in the repository): kube-pods.py overlay options.
haproxy_from_overlay() {
  local name="$1" ov="$RUN/overlay-$1" extra=()
  shift
  [ -n "$ALLOW_NET" ] && extra=(--allow-net "$ALLOW_NET")
  [ -n "$AGENT_ALLOW_NET" ] && [ -z "$ALLOW_NET" ] && log "(the agent keeps its shipped --allow-net $AGENT_ALLOW_NET)"
  rm -rf "$ov"
  "$KP" overlay "$RENDERED_BASE" "$SRC/$OVERLAY" "$ov" "$@" "${extra[@]}"
  rec "cat $ov/*.yaml"
  kubectl kustomize "$ov" >"$RUN/rendered-$name.yaml" || return 1
  rec "$KP facts $RUN/rendered-$name.yaml | grep -E '^AGENT_(ARGS|ENV|BACKENDS)='"
  haproxy_down
  haproxy_up "$RUN/rendered-$name.yaml"
  wait_until 30 slots_match && log "be_web filled on both replicas" || log "be_web NOT filled on both replicas"
}

ph_ghost() {
  phase "a second backend whose name never resolves (scratch overlay: be_ghost in haproxy.cfg and the agent's backends)"
  haproxy_from_overlay ghost --ghost || { result FAIL ghost "the scratch overlay does not render"; return; }
  rec "tail -7 $RUN/overlay-ghost/haproxy.cfg"
  sleep 10
  local bad=0 r
  for h in $(haproxy_pods); do
    rec "curl -s -w ' [%{http_code}]\n' $(agent_url "$h" /readyz)"
    r="$(code "$(agent_url "$h" /readyz)")"
    [ "$r" = 200 ] || bad=1
  done
  rec "p logs $HAPROXY_DEPLOY-1-$AGENT_CTR 2>&1 | grep -i ghost | head -3 | cut -c1-300"
  [ $bad = 0 ] && result PASS ghost-readyz "/readyz 200 on both replicas with be_ghost never resolving" ||
    result FAIL ghost-readyz "/readyz not 200 with a backend whose name never resolves"
}

ph_outage() {
  phase "DNS outage longer than --hold: scratch overlay with --hold=20s, then the cluster DNS stops for 60 s"
  haproxy_from_overlay hold --hold 20s || { result FAIL outage "the scratch overlay does not render"; return; }
  sleep 5
  local jar=outage
  rm -f "$RUN/jars/$jar"
  local before
  before="$(req "$jar" "$HAPROXY_DEPLOY-1")"
  log "client 'outage' before: $before"
  rec "$HERE/cluster-dns.sh stop"
  local t0=$SECONDS bad=0 line h r z t n ups
  while ((SECONDS - t0 < 60)); do
    line="t+$((SECONDS - t0))s"
    for h in $(haproxy_pods); do
      r="$(code "$(agent_url "$h" /readyz)")"
      z="$(code "$(agent_url "$h" /healthz)")"
      t="$(req "$jar" "$h")"
      n="$(req_new "$h")"
      ups="$(servers_in "$h" UP | wc -l)"
      line+="  $h: readyz $r healthz $z sticky-client $t new-client $n be_web UP $ups"
      [ "$r" = 200 ] || bad=1
    done
    log "$line"
    sleep 3
  done
  rec "curl -s -w ' [%{http_code}]\n' $(agent_url "$HAPROXY_DEPLOY-1" /readyz)"
  rec "p logs --since 70s $HAPROXY_DEPLOY-1-$AGENT_CTR 2>&1 | grep -vi ghost | cut -c1-260 | tail -6"
  [ $bad = 0 ] && result PASS outage-readyz "/readyz 200 on both replicas through 60 s of DNS outage (--hold 20s)" ||
    result FAIL outage-readyz "/readyz left 200 during the DNS outage"
  rec "$HERE/cluster-dns.sh resume"
  sleep 10
  for h in $(haproxy_pods); do
    rec "curl -s -w ' [%{http_code}]\n' $(agent_url "$h" /readyz)"
    rec "servers $h | grep -v MAINT"
  done
  slots_match && result PASS outage-recovery "after DNS is back: both replicas UP servers = the pods" ||
    result FAIL outage-recovery "after DNS is back the replicas do not match the pods"
}

ph_sigterm() {
  phase "SIGTERM of the agent container"
  local h rc bad=0
  for h in $(haproxy_pods); do
    rec "p kill --signal TERM $h-$AGENT_CTR"
    rc="$(timeout 30 podman --runtime "$RUNTIME" wait "$h-$AGENT_CTR")"
    rec "p inspect --format '{{.State.Status}} exit {{.State.ExitCode}}' $h-$AGENT_CTR"
    rec "p logs $h-$AGENT_CTR 2>&1 | tail -2 | cut -c1-300"
    [ "$rc" = 0 ] || bad=1
  done
  [ $bad = 0 ] && result PASS sigterm "the agent container exits 0 on SIGTERM (both replicas)" ||
    result FAIL sigterm "the agent container exited $rc on SIGTERM"
}

# --- main --------------------------------------------------------------------------------------
case "${1:-}" in
  down)
    all_down
    exit 0
    ;;
  src)
    rev="$(git -C "${2:?GIT_DIR}" rev-parse --short "${3:-HEAD}")" || exit 1
    dir="$SCRATCH/src-$rev"
    rm -rf "$dir" && mkdir -p "$dir"
    git -C "$2" archive "$rev" | tar -x -C "$dir"
    echo "$rev $(git -C "$2" log -1 --format=%s "$rev")" >"$dir/.rev"
    echo "$dir"
    exit 0
    ;;
  run) ;;
  *) die "usage: $0 run SRC_DIR OVERLAY LABEL [--allow-net CIDR] [--phases \"...\"] [--keep] | $0 src GIT_DIR REV | $0 down" ;;
esac
SRC="$(cd "${2:?SRC_DIR}" && pwd)" OVERLAY="${3:?OVERLAY}" LABEL="${4:?LABEL}"
shift 4
ALLOW_NET="" PHASES="up identity slots probes sticky scale memory ghost outage sigterm" KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --allow-net) ALLOW_NET="$2"; shift 2 ;;
    --phases) PHASES="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) die "unknown option $1" ;;
  esac
done
RUN="$SCRATCH/runs/$LABEL"
rm -rf "$RUN" && mkdir -p "$RUN/jars"
LOG="$RUN/trial.log" SUMMARY="$RUN/summary.txt"
: >"$SUMMARY"

phase "trial $LABEL: $SRC ($(cat "$SRC/.rev" 2>/dev/null || echo '?')), overlay $OVERLAY"
rec "podman --version; runc --version | head -1; kubectl version --client 2>/dev/null | head -2"
rec "p run --rm --pull never $IMG_HAPROXY haproxy -v | head -1"
rec "p run --rm --pull never $IMG_NGINX nginx -v"
rec "p run --rm --pull never $IMG_BIND named -v"
phase "agent image from $SRC/Dockerfile"
rec "$HERE/build-images.sh agent $SRC 2>&1 | grep -v '^[a-z.]*/.*[0-9] [MGk]B\$'" || die "the agent image did not build"
rec "p run --rm --pull never $IMG_AGENT --version"
rec "p image inspect --format '{{.Config.User}} {{.Config.Entrypoint}} {{.Config.Cmd}}' $IMG_AGENT"

phase "render: kubectl kustomize $OVERLAY"
# The demo overlay's Secret comes from a file the user writes (git ignores it): write one.
if [ -f "$SRC/$OVERLAY/secret.env.example" ] && [ ! -f "$SRC/$OVERLAY/secret.env" ]; then
  printf 'dynamic-cookie-key=%s\nstats-password=%s\n' "$(openssl rand -hex 32)" "$(openssl rand -hex 16)" >"$SRC/$OVERLAY/secret.env"
  rec "sed 's/=.*/=<random>/' $SRC/$OVERLAY/secret.env"
fi
RENDERED_BASE="$RUN/rendered.yaml"
kubectl kustomize "$SRC/$OVERLAY" >"$RENDERED_BASE" || die "kubectl kustomize $SRC/$OVERLAY failed"
RENDERED="$RENDERED_BASE"
if [ -n "$ALLOW_NET" ]; then
  "$KP" overlay "$RENDERED_BASE" "$SRC/$OVERLAY" "$RUN/overlay-net" --allow-net "$ALLOW_NET"
  rec "cat $RUN/overlay-net/agent-args.yaml"
  RENDERED="$RUN/rendered-net.yaml"
  kubectl kustomize "$RUN/overlay-net" >"$RENDERED" || die "the --allow-net overlay does not render"
  result INFO allow-net "rendered through a scratch overlay: --allow-net=$ALLOW_NET instead of the shipped value"
fi
eval "$("$KP" facts "$RENDERED")"
rec "$KP facts $RENDERED | grep -v PASSWORD"
[ -n "$AGENT_PORT" ] || die "the agent has no --listen: no probes to check"
# The rendered image name of the agent resolves to the image just built.
[ "$AGENT_IMAGE" = "${IMG_AGENT#localhost/}" ] || rec "p tag $IMG_AGENT $AGENT_IMAGE"

for ph in $PHASES; do "ph_$ph"; done
phase "summary"
cat "$SUMMARY" | tee -a "$LOG"
if [ $KEEP = 0 ]; then all_down; fi
grep -q '^FAIL' "$SUMMARY" && exit 1 || exit 0
