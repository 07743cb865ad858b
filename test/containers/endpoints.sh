#!/bin/bash
# A small endpoints controller: publishes in the cluster DNS, with nsupdate, what CoreDNS
# answers for a Service from its EndpointSlices.
#
# Headless Service (web): for each ready pod (running, not terminating, its readiness probe's
# HTTP GET answers 2xx/3xx), as Kubernetes does for a named port `http`:
#   _http._tcp.web.default.svc.cluster.local. 5 SRV 0 <floor(100/N)> <port> a-b-c-d.web.default.svc.cluster.local.
#   a-b-c-d.web.default.svc.cluster.local.    5 A   a.b.c.d
#   web.default.svc.cluster.local.            5 A   a.b.c.d   (one per pod)
# The haproxy Service (ClusterIP): haproxy.default.svc.cluster.local A records of its ready pods
# (ports 8080 and 8404 accept a connection, and the agent's /readyz on 9090, when it answers,
# says 200), standing in for its ClusterIP.
# A change is one update (one serial step); nothing is sent when DNS already says it.
#
#   endpoints.sh sync RENDERED                 one pass
#   endpoints.sh run RENDERED                  a pass every second (stop it with kill)
#   endpoints.sh terminate POD                 the pod is Terminating: it leaves DNS at the next pass
set -uo pipefail
. "$(dirname "$0")/lib.sh"
KEY="$SCRATCH/dns/controller.key"
MARKS="$SCRATCH/terminating"
mkdir -p "$MARKS"
TTL=5

pods_with() { # label selector "k=v,k2=v2" -> running pods, by name
  local args=()
  IFS=, read -ra sel <<<"$1"
  for s in "${sel[@]}"; do args+=(--filter "label=$s"); done
  p pod ps "${args[@]}" --filter status=running --format '{{.Name}}' 2>/dev/null | sort
}

ip_of() { cat "$SCRATCH/pods/$1/ip" 2>/dev/null; }
dashed() { echo "${1//./-}"; }

http_ok() { curl -s -o /dev/null --max-time 1 -w '%{http_code}' "http://$1:$2$3" 2>/dev/null | grep -q '^[23]'; }

# One pass for a headless Service.
sync_headless() {
  local name="$1" selector="$2" port_name="$3" proto="$4" port="$5" path="$6" probe_port="$7"
  local fqdn="$name.$NAMESPACE.svc.$ZONE" ips=() pod ip
  for pod in $(pods_with "$selector"); do
    [ -e "$MARKS/$pod" ] && continue
    ip="$(ip_of "$pod")" || continue
    [ -n "$ip" ] && http_ok "$ip" "$probe_port" "$path" && ips+=("$ip")
  done
  local n=${#ips[@]} want have srv="_$port_name._$proto.$fqdn"
  local weight=$((n > 0 ? 100 / n : 0))
  want="$(for ip in "${ips[@]}"; do echo "0 $weight $port $(dashed "$ip").$fqdn."; done | sort)"
  have="$(dig +short +time=1 +tries=1 SRV "$srv" "@$DNS_IP" 2>/dev/null | sort)" || return 1
  [ "$want" = "$have" ] && return 0
  {
    echo "server $DNS_IP"
    echo "zone $ZONE"
    echo "update delete $srv. SRV"
    echo "update delete $fqdn. A"
    while read -r _ _ _ target; do
      [ -n "$target" ] && echo "update delete $target A"
    done <<<"$have"
    for ip in "${ips[@]}"; do
      echo "update add $srv. $TTL SRV 0 $weight $port $(dashed "$ip").$fqdn."
      echo "update add $(dashed "$ip").$fqdn. $TTL A $ip"
      echo "update add $fqdn. $TTL A $ip"
    done
    echo send
  } | nsupdate -k "$KEY" -t 3 || return 1
  say "endpoints $name: ${ips[*]:-none} (weight $weight), serial $(dig +short SOA "$ZONE" "@$DNS_IP" | awk '{print $3}')"
}

# One pass for a Service with a ClusterIP: its ready pods' addresses as its A records.
sync_plain() {
  local name="$1" selector="$2" ips=() pod ip ok c
  local fqdn="$name.$NAMESPACE.svc.$ZONE"
  for pod in $(pods_with "$selector"); do
    [ -e "$MARKS/$pod" ] && continue
    ip="$(ip_of "$pod")" || continue
    ok=1
    for c in 8080 8404; do timeout 1 bash -c "exec 3<>/dev/tcp/$ip/$c" 2>/dev/null || ok=0; done
    curl -s -o /dev/null --max-time 1 "http://$ip:9090/readyz" && { http_ok "$ip" 9090 /readyz || ok=0; }
    [ $ok = 1 ] && ips+=("$ip")
  done
  local want have
  want="$(printf '%s\n' "${ips[@]}" | grep . | sort)"
  have="$(dig +short +time=1 +tries=1 A "$fqdn" "@$DNS_IP" 2>/dev/null | sort)" || return 1
  [ "$want" = "$have" ] && return 0
  {
    echo "server $DNS_IP"
    echo "zone $ZONE"
    echo "update delete $fqdn. A"
    for ip in "${ips[@]}"; do echo "update add $fqdn. $TTL A $ip"; done
    echo send
  } | nsupdate -k "$KEY" -t 3 || return 1
  say "endpoints $name: ${ips[*]:-none}"
}

sync_all() {
  local rendered="$1"
  eval "$("$HERE/kube-pods.py" service "$rendered" web)"
  sync_headless web "$SVC_SELECTOR" "$SVC_PORT_NAME" "$SVC_PROTO" "$SVC_TARGET_PORT" "$SVC_PROBE_PATH" "$SVC_PROBE_PORT"
  sync_plain haproxy app=haproxy
}

case "${1:-}" in
  sync) sync_all "${2:?rendered manifests}" ;;
  run)
    rendered="${2:?rendered manifests}"
    eval "$("$HERE/kube-pods.py" service "$rendered" web)"
    say "endpoints controller: Service web ($SVC_SELECTOR, port $SVC_PORT_NAME/$SVC_PROTO $SVC_TARGET_PORT), haproxy"
    while :; do
      sync_headless web "$SVC_SELECTOR" "$SVC_PORT_NAME" "$SVC_PROTO" "$SVC_TARGET_PORT" "$SVC_PROBE_PATH" "$SVC_PROBE_PORT" \
        || say "endpoints web: DNS update failed"
      sync_plain haproxy app=haproxy || say "endpoints haproxy: DNS update failed"
      sleep 1
    done
    ;;
  terminate) touch "$MARKS/${2:?pod}" ;;
  *) die "usage: $0 sync RENDERED | run RENDERED | terminate POD" ;;
esac
