#!/bin/bash
# The cluster DNS: Debian's BIND 9 in a container at $DNS_IP on the pod network, primary for
# the zone cluster.local (SOA like CoreDNS's: TTL 5), taking dynamic updates signed with the
# key the endpoints controller holds. Names outside cluster.local get NXDOMAIN (a root zone of
# its own), as from CoreDNS's upstream.
#
#   cluster-dns.sh start     # a fresh zone (removes what a previous run published)
#   cluster-dns.sh stop      # the outage: the container stops, the zone is kept
#   cluster-dns.sh resume    # back, with the records it had
#   cluster-dns.sh remove
set -euo pipefail
. "$(dirname "$0")/lib.sh"
DIR="$SCRATCH/dns"
NAME=trial-dns

fresh() {
  p rm --force --ignore "$NAME" >/dev/null
  rm -rf "$DIR" && mkdir -p "$DIR"
  local secret
  secret="$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')"
  printf 'key "controller" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$secret" > "$DIR/controller.key"
  cat > "$DIR/named.conf" <<CONF
include "/etc/trial-dns/controller.key";
options {
	directory "/etc/trial-dns";
	listen-on { any; };
	listen-on-v6 { none; };
	recursion no;
	allow-query { any; };
	allow-transfer { any; };
	dnssec-validation no;
	notify no;
};
zone "$ZONE" {
	type primary;
	file "/etc/trial-dns/$ZONE.zone";
	allow-update { key controller; };
};
// Names outside the cluster: NXDOMAIN, as CoreDNS's upstream would say (not REFUSED).
zone "." {
	type primary;
	file "/etc/trial-dns/root.zone";
};
CONF
  printf '$TTL 30\n@\tIN SOA\tns. hostmaster. 1 7200 1800 86400 30\n@\tIN NS\tns.\nns.\tIN A\t%s\n' \
    "$DNS_IP" > "$DIR/root.zone"
  cat > "$DIR/$ZONE.zone" <<ZONEFILE
\$TTL 5
@	IN SOA	ns.dns.$ZONE. hostmaster.$ZONE. 1 7200 1800 86400 5
@	IN NS	ns.dns.$ZONE.
ns.dns	IN A	$DNS_IP
kube-dns.kube-system.svc	IN A	$DNS_IP
ZONEFILE
  p run --detach --pull never --name "$NAME" --network "$NETWORK" --ip "$DNS_IP" \
    --volume "$DIR:/etc/trial-dns:rw" "$IMG_BIND" >/dev/null
  wait_up
}

wait_up() {
  for _ in $(seq 50); do
    dig +time=1 +tries=1 +short SOA "$ZONE" "@$DNS_IP" 2>/dev/null | grep -q . && {
      say "cluster DNS up at $DNS_IP: $(dig +short SOA "$ZONE" "@$DNS_IP")"
      return 0
    }
    sleep 0.2
  done
  p logs --tail 20 "$NAME" >&2
  die "cluster DNS did not answer at $DNS_IP"
}

case "${1:-}" in
  start) fresh ;;
  stop) p stop --time 5 "$NAME" >/dev/null && say "cluster DNS stopped" ;;
  resume) p start "$NAME" >/dev/null && wait_up ;;
  remove) p rm --force --ignore "$NAME" >/dev/null ;;
  *) die "usage: $0 start | stop | resume | remove" ;;
esac
