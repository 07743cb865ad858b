#!/usr/bin/env python3
"""Runs a Deployment's pod, as `kubectl kustomize` rendered it, in podman: no Kubernetes.

  kube-pods.py up RENDERED DEPLOYMENT POD     create and start one replica, named POD
  kube-pods.py down POD [GRACE]               preStop hooks, then stop (SIGTERM, GRACE s) and remove
  kube-pods.py plan RENDERED DEPLOYMENT POD   print the podman commands `up` would run
  kube-pods.py service RENDERED SERVICE       shell variables describing a Service's endpoints
  kube-pods.py ip POD                         the pod's address on the pod network
  kube-pods.py facts RENDERED                 shell variables the trial needs (which Deployment runs
                                              the agent, its container, flags, secrets...)
  kube-pods.py overlay RENDERED BASE OUT [--allow-net CIDR] [--ghost] [--hold D]
                                              a kustomize overlay in OUT on top of BASE (a directory
                                              `kubectl kustomize` renders): --allow-net replaced,
                                              a second backend whose name never resolves, --hold
                                              (in the agent's args where it has the flag there,
                                              else as its environment variable)

What `up` honours from the pod template, and how:
  pod securityContext runAsUser/runAsGroup/fsGroup/supplementalGroups/runAsNonRoot, and the
  container's (which wins): --user UID[:GID], --group-add; runAsNonRoot refuses uid 0 as the
  kubelet does. readOnlyRootFilesystem: --read-only without podman's writable /tmp, /run.
  allowPrivilegeEscalation false: no-new-privileges. capabilities: --cap-drop/--cap-add.
  seccompProfile RuntimeDefault: podman's default profile (Unconfined: none).
  args/command: podman keeps the image's entrypoint unless `command` is given, as Kubernetes.
  env value/secretKeyRef/configMapKeyRef/fieldRef (pod name, namespace, IP), envFrom.
  volumes: configMap/secret (files written from the rendered objects, mounted read-only, items
  and defaultMode honoured), emptyDir (medium Memory: a tmpfs podman volume shared by the
  containers, of sizeLimit, mode 3777 group fsGroup as the kubelet leaves it; otherwise a
  directory, mode 2777 group fsGroup), volumeMounts with readOnly and subPath.
  resources.limits memory and cpu: --memory, --cpus. terminationGracePeriodSeconds: the stop
  timeout. lifecycle.preStop exec: run by `down` before the stop. The pod's hostname is its name;
  its resolv.conf points at the cluster DNS with Kubernetes' search list and ndots:5.
Not honoured (no kubelet here): probes (the trial and the endpoints controller probe instead),
resource requests, image pull policy (images are local), service account tokens (none mounted).
"""

import base64
import json
import math
import os
import re
import shlex
import subprocess
import sys
import threading
import time

import yaml

SCRATCH = os.environ.get("SCRATCH", "/work/trial-scratch")
RUNTIME = os.environ.get("RUNTIME", "/usr/local/lib/podman-rt/runc")
NETWORK = os.environ.get("NETWORK", "podman")
DNS_IP = os.environ.get("DNS_IP", "10.88.255.53")
ZONE = os.environ.get("ZONE", "cluster.local")
NAMESPACE = os.environ.get("NAMESPACE", "default")
DRY = False


def podman(*args, check=True, capture=False):
    cmd = ["podman", "--runtime", RUNTIME, *args]
    if DRY:
        print(" ".join(shlex.quote(a) for a in cmd))
        return ""
    r = subprocess.run(cmd, check=False, text=True, capture_output=capture or not check)
    if check and r.returncode != 0:
        sys.exit(f"kube-pods: {' '.join(cmd[:4])} ... failed ({r.returncode}): {r.stderr or ''}".strip())
    return r.stdout if capture else r.returncode


def load(rendered):
    with open(rendered) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def find(docs, kind, name):
    for d in docs:
        if d.get("kind") == kind and d["metadata"]["name"] == name:
            return d
    sys.exit(f"kube-pods: no {kind} named {name!r} in the rendered manifests")


def quantity_bytes(q):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]i?|[kmgt]|)", str(q))
    if not m:
        sys.exit(f"kube-pods: cannot read the quantity {q!r}")
    units = {"": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
             "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4}
    return int(float(m.group(1)) * units[m.group(2)])


def cpu_cores(q):
    q = str(q)
    return float(q[:-1]) / 1000 if q.endswith("m") else float(q)


def object_data(obj):
    """The files of a ConfigMap or Secret: name -> bytes."""
    out = {}
    for k, v in (obj.get("data") or {}).items():
        out[k] = base64.b64decode(v) if obj["kind"] == "Secret" else v.encode()
    for k, v in (obj.get("stringData") or {}).items():
        out[k] = v.encode()
    for k, v in (obj.get("binaryData") or {}).items():
        out[k] = base64.b64decode(v)
    return out


def env_of(docs, c, pod, ip_placeholder):
    env = []
    for src in c.get("envFrom") or []:
        kind, ref = ("ConfigMap", src["configMapRef"]) if "configMapRef" in src else ("Secret", src["secretRef"])
        if ref.get("optional") and not any(d.get("kind") == kind and d["metadata"]["name"] == ref["name"] for d in docs):
            continue  # an optional source that is not there: the kubelet starts the container without it
        for k, v in object_data(find(docs, kind, ref["name"])).items():
            env.append((src.get("prefix", "") + k, v.decode()))
    for e in c.get("env") or []:
        if "value" in e:
            env.append((e["name"], str(e["value"])))
            continue
        vf = e["valueFrom"]
        if "secretKeyRef" in vf or "configMapKeyRef" in vf:
            kind, ref = ("Secret", vf["secretKeyRef"]) if "secretKeyRef" in vf else ("ConfigMap", vf["configMapKeyRef"])
            data = object_data(find(docs, kind, ref["name"]))
            if ref["key"] not in data:
                sys.exit(f"kube-pods: {kind} {ref['name']} has no key {ref['key']!r}")
            env.append((e["name"], data[ref["key"]].decode()))
        elif "fieldRef" in vf:
            path = vf["fieldRef"]["fieldPath"]
            value = {"metadata.name": pod, "metadata.namespace": NAMESPACE,
                     "spec.nodeName": os.uname().nodename}.get(path)
            if value is None:
                sys.exit(f"kube-pods: fieldRef {path} is not supported")
            env.append((e["name"], value))
        else:
            sys.exit(f"kube-pods: env {e['name']}: valueFrom {list(vf)} is not supported")
    return env


def pod_dir(pod):
    return os.path.join(SCRATCH, "pods", pod)


def write_files(dirpath, files, items, mode):
    os.makedirs(dirpath, exist_ok=True)
    os.chmod(dirpath, 0o755)
    chosen = [(i["key"], i["path"], i.get("mode", mode)) for i in items] if items else [(k, k, mode) for k in files]
    for key, path, m in chosen:
        dest = os.path.join(dirpath, path)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(files[key])
        os.chmod(dest, m)


def plan(docs, deployment, pod):
    dep = find(docs, "Deployment", deployment)
    tpl = dep["spec"]["template"]
    spec = tpl["spec"]
    psc = spec.get("securityContext") or {}
    fs_group = psc.get("fsGroup")
    labels = tpl["metadata"].get("labels") or {}
    grace = spec.get("terminationGracePeriodSeconds", 30)
    cmds = []

    pod_args = ["pod", "create", "--name", pod, "--hostname", pod, "--network", NETWORK,
                "--dns", DNS_IP, "--dns-option", "ndots:5", "--share", "ipc,net,uts"]
    for d in (f"{NAMESPACE}.svc.{ZONE}", f"svc.{ZONE}", ZONE):
        pod_args += ["--dns-search", d]
    for k, v in labels.items():
        pod_args += ["--label", f"{k}={v}"]
    pod_args += ["--label", "trial.deployment=" + deployment]
    cmds.append(("podman", pod_args))

    mounts = {}  # volume name -> (source, is_podman_volume)
    for v in spec.get("volumes") or []:
        name = v["name"]
        if "configMap" in v or "secret" in v:
            kind, ref = ("ConfigMap", v["configMap"]) if "configMap" in v else ("Secret", v["secret"])
            obj = find(docs, kind, ref.get("name") or ref.get("secretName"))
            path = os.path.join(pod_dir(pod), "volumes", name)
            cmds.append(("files", (path, object_data(obj), ref.get("items"), ref.get("defaultMode", 0o644))))
            mounts[name] = (path, False)
        elif "emptyDir" in v or set(v) == {"name"}:
            # A volume with no source is an emptyDir: the API server defaults it so.
            ed = v.get("emptyDir") or {}
            gid = fs_group if fs_group is not None else 0
            if ed.get("medium") == "Memory":
                vol = f"{pod}-{name}"
                opts = [f"mode={'3777' if fs_group is not None else '1777'}", f"gid={gid}"]
                if ed.get("sizeLimit"):
                    opts.append(f"nr_blocks={math.ceil(quantity_bytes(ed['sizeLimit']) / 4096)}")
                cmds.append(("podman", ["volume", "create", "--label", f"trial.pod={pod}", "--opt", "type=tmpfs",
                                        "--opt", "device=tmpfs", "--opt", "o=" + ",".join(opts), vol]))
                mounts[name] = (vol, True)
            else:
                path = os.path.join(pod_dir(pod), "volumes", name)
                cmds.append(("dir", (path, 0o2777 if fs_group is not None else 0o777, gid)))
                mounts[name] = (path, False)
        else:
            sys.exit(f"kube-pods: volume {name}: only configMap, secret and emptyDir are supported")

    for c in spec["containers"]:
        sc = {**psc, **(c.get("securityContext") or {})}
        run = ["run", "--detach", "--pull", "never", "--pod", pod, "--name", f"{pod}-{c['name']}",
               "--stop-timeout", str(grace), "--label", f"trial.container={c['name']}"]
        uid, gid = sc.get("runAsUser"), sc.get("runAsGroup")
        if uid is not None:
            run += ["--user", f"{uid}:{gid}" if gid is not None else str(uid)]
        elif gid is not None:
            sys.exit(f"kube-pods: {c['name']}: runAsGroup without runAsUser is not supported")
        if sc.get("runAsNonRoot") and uid is None:
            sys.exit(f"kube-pods: {c['name']}: runAsNonRoot without runAsUser: give the uid in the manifest")
        if sc.get("runAsNonRoot") and uid == 0:
            sys.exit(f"kube-pods: {c['name']}: runAsNonRoot and runAsUser 0 (the kubelet refuses this container)")
        for g in ([fs_group] if fs_group is not None else []) + list(psc.get("supplementalGroups") or []):
            run += ["--group-add", str(g)]
        if sc.get("readOnlyRootFilesystem"):
            run += ["--read-only", "--read-only-tmpfs=false"]
        if sc.get("allowPrivilegeEscalation") is False:
            run += ["--security-opt", "no-new-privileges"]
        caps = sc.get("capabilities") or {}
        for cap in caps.get("drop") or []:
            run += ["--cap-drop", cap.lower()]
        for cap in caps.get("add") or []:
            run += ["--cap-add", cap.lower()]
        seccomp = (sc.get("seccompProfile") or {}).get("type")
        if seccomp == "Unconfined":
            run += ["--security-opt", "seccomp=unconfined"]
        elif seccomp not in (None, "RuntimeDefault"):
            sys.exit(f"kube-pods: {c['name']}: seccompProfile {seccomp} is not supported")
        if sc.get("privileged"):
            run += ["--privileged"]
        limits = (c.get("resources") or {}).get("limits") or {}
        if "memory" in limits:
            run += ["--memory", str(quantity_bytes(limits["memory"]))]
        if "cpu" in limits:
            run += ["--cpus", f"{cpu_cores(limits['cpu']):g}"]
        for k, v in env_of(docs, c, pod, "") :
            run += ["--env", f"{k}={v}"]
        for vm in c.get("volumeMounts") or []:
            src, is_volume = mounts[vm["name"]]
            if vm.get("subPath"):
                if is_volume:
                    sys.exit(f"kube-pods: {c['name']}: subPath on an emptyDir of medium Memory is not supported")
                src = os.path.join(src, vm["subPath"])
            run += ["--volume", f"{src}:{vm['mountPath']}:{'ro' if vm.get('readOnly') else 'rw'}"]
        if c.get("workingDir"):
            run += ["--workdir", c["workingDir"]]
        if c.get("command"):
            run += ["--entrypoint", json.dumps(c["command"])]
        run.append(c["image"])
        run += [str(a) for a in c.get("args") or []]
        cmds.append(("podman", run))
    return cmds


def up(rendered, deployment, pod):
    docs = load(rendered)
    cmds = plan(docs, deployment, pod)
    if not DRY:
        os.makedirs(pod_dir(pod), exist_ok=True)
        with open(os.path.join(pod_dir(pod), "spec.json"), "w") as f:
            json.dump(find(docs, "Deployment", deployment)["spec"]["template"], f, indent=1)
    for kind, what in cmds:
        if kind == "podman":
            podman(*what)
        elif DRY:
            print(f"# {kind} {what[0]}")
        elif kind == "files":
            write_files(*what)
        elif kind == "dir":
            path, mode, gid = what
            os.makedirs(path, exist_ok=True)
            os.chown(path, 0, gid)
            os.chmod(path, mode)
    if not DRY:
        with open(os.path.join(pod_dir(pod), "ip"), "w") as f:
            f.write(pod_ip(pod) + "\n")
        print(pod, pod_ip(pod))


def pod_ip(pod):
    infra = podman("pod", "inspect", "--format", "{{.InfraContainerID}}", pod, capture=True).strip()
    nets = json.loads(podman("inspect", "--format", "{{json .NetworkSettings.Networks}}", infra, capture=True))
    return nets[NETWORK]["IPAddress"]


def down(pod, grace=None):
    """Like a pod's termination: every container's preStop hook, then SIGTERM, then SIGKILL
    after what is left of the grace period; then the pod and its volumes are removed."""
    try:
        with open(os.path.join(pod_dir(pod), "spec.json")) as f:
            spec = json.load(f)["spec"]
    except FileNotFoundError:
        spec = {"containers": []}
    grace = int(grace) if grace is not None else spec.get("terminationGracePeriodSeconds", 30)
    start = time.monotonic()
    hooks = []
    for c in spec["containers"]:
        pre = ((c.get("lifecycle") or {}).get("preStop") or {}).get("exec")
        if pre:
            t = threading.Thread(target=podman, args=("exec", f"{pod}-{c['name']}", *pre["command"]),
                                 kwargs={"check": False})
            t.start()
            hooks.append(t)
    for t in hooks:
        t.join(timeout=max(0, grace - (time.monotonic() - start)))
    left = max(2, int(grace - (time.monotonic() - start)))
    podman("pod", "stop", "--time", str(left), pod, check=False)
    podman("pod", "rm", "--force", pod, check=False)
    podman("volume", "prune", "--force", "--filter", f"label=trial.pod={pod}", check=False)


def service(rendered, name):
    docs = load(rendered)
    svc = find(docs, "Service", name)
    selector = svc["spec"]["selector"]
    port = svc["spec"]["ports"][0]
    dep = next(d for d in docs if d.get("kind") == "Deployment"
               and all((d["spec"]["template"]["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items()))
    c = dep["spec"]["template"]["spec"]["containers"][0]
    named = {p.get("name"): p["containerPort"] for p in c.get("ports") or []}
    target = port.get("targetPort", port["port"])
    target = named.get(target, target)
    probe = (c.get("readinessProbe") or {}).get("httpGet") or {}
    probe_port = named.get(probe.get("port"), probe.get("port", target))
    print(f"SVC_SELECTOR={shlex.quote(','.join(f'{k}={v}' for k, v in selector.items()))}")
    print(f"SVC_HEADLESS={'1' if svc['spec'].get('clusterIP') == 'None' else '0'}")
    print(f"SVC_PORT_NAME={shlex.quote(port.get('name', ''))}")
    print(f"SVC_PROTO={port.get('protocol', 'TCP').lower()}")
    print(f"SVC_TARGET_PORT={target}")
    print(f"SVC_PROBE_PATH={shlex.quote(probe.get('path', '/'))}")
    print(f"SVC_PROBE_PORT={probe_port}")


def is_agent(c):
    return (any(str(a).startswith("--backend") for a in c.get("args") or [])
            or any(e["name"] == "HAPROXY_DNS_AGENT_BACKEND" for e in c.get("env") or [])
            or c.get("name") == "dns-agent"
            or "haproxy-dns-agent" in c.get("image", ""))


def agent_of(docs):
    """The Deployment and container running the agent: given --backend (a flag or its
    environment variable), or running the agent's image."""
    for d in docs:
        if d.get("kind") != "Deployment":
            continue
        for i, c in enumerate(d["spec"]["template"]["spec"]["containers"]):
            if is_agent(c):
                return d, i, c
    sys.exit("kube-pods: no Deployment runs the agent (a container with --backend or HAPROXY_DNS_AGENT_BACKEND)")


def env_name(flag_name):
    return "HAPROXY_DNS_AGENT_" + flag_name.upper().replace("-", "_")


def flag(args, name):
    """The values of --name=value and --name value in args."""
    out = []
    for i, a in enumerate(args):
        if a.startswith(f"--{name}="):
            out.append(a.split("=", 1)[1])
        elif a == f"--{name}" and i + 1 < len(args):
            out.append(args[i + 1])
    return out


def agent_flag(c, name, docs=()):
    """A flag's values as the agent reads them: the flag wins over its variable (a
    comma-separated list for a repeatable flag), from env or from envFrom's sources."""
    got = flag([str(a) for a in c.get("args") or []], name)
    if got:
        return got
    value = dict(env_of(docs, c, "", "")).get(env_name(name))
    return [v for v in str(value).split(",") if v] if value is not None else []


def facts(rendered):
    docs = load(rendered)
    dep, index, agent = agent_of(docs)
    spec = dep["spec"]["template"]["spec"]
    args = [str(a) for a in agent.get("args") or []]
    haproxy = next(c for c in spec["containers"] if c is not agent)
    socket = (agent_flag(agent, "socket", docs) or ["/var/run/haproxy/admin.sock"])[0]
    volume = next(vm["name"] for vm in agent.get("volumeMounts") or []
                  if socket.startswith(vm["mountPath"].rstrip("/") + "/"))
    listen = (agent_flag(agent, "listen", docs) or [""])[0]
    env = dict(env_of(docs, haproxy, "", ""))
    cfg_volume = next((v for v in spec.get("volumes") or [] if "configMap" in v), None)
    web_svc = next(d for d in docs if d.get("kind") == "Service" and d["spec"].get("clusterIP") == "None")
    web = next(d for d in docs if d.get("kind") == "Deployment" and all(
        (d["spec"]["template"]["metadata"].get("labels") or {}).get(k) == v
        for k, v in web_svc["spec"]["selector"].items()))
    out = {
        "HAPROXY_DEPLOY": dep["metadata"]["name"],
        "HAPROXY_REPLICAS": dep["spec"].get("replicas", 1),
        "HAPROXY_CTR": haproxy["name"],
        "AGENT_CTR": agent["name"],
        "AGENT_INDEX": index,
        "AGENT_IMAGE": agent["image"],
        "AGENT_ARGS": " ".join(args),
        "AGENT_ENV": " ".join(f"{e['name']}={e['value']}" for e in agent.get("env") or [] if "value" in e),
        "AGENT_BACKENDS": " ".join(agent_flag(agent, "backend", docs)),
        "AGENT_PORT": listen.rsplit(":", 1)[-1] if listen else "",
        "AGENT_ALLOW_NET": " ".join(agent_flag(agent, "allow-net", docs)),
        "SOCKET": socket,
        "SOCKET_VOLUME": volume,
        "STATS_PASSWORD": env.get("STATS_PASSWORD", ""),
        "CONFIG_MAP": cfg_volume["configMap"]["name"] if cfg_volume else "",
        "WEB_DEPLOY": web["metadata"]["name"],
        "WEB_REPLICAS": web["spec"].get("replicas", 1),
        "WEB_SERVICE": web_svc["metadata"]["name"],
        "IMAGES": " ".join(sorted({c["image"] for d in docs if d.get("kind") == "Deployment"
                                   for c in d["spec"]["template"]["spec"]["containers"]})),
    }
    for k, v in out.items():
        print(f"{k}={shlex.quote(str(v))}")


GHOST = """
# Added by the trial's scratch overlay: a second backend whose name never resolves.
backend be_ghost
    balance roundrobin
    dynamic-cookie-key "${DYNAMIC_COOKIE_KEY}"
    cookie SRVID insert dynamic
    server-template ghost 2 127.0.0.1:9 check inter 2s fall 2 rise 1 disabled
"""


def overlay(rendered, base, out, opts):
    """A flag the rendered container has in its args is changed there (a JSON patch: the
    flag wins over its variable); any other is set as its environment variable (a strategic
    merge patch: env merges by name), as the component's users are told to."""
    docs = load(rendered)
    dep, index, agent = agent_of(docs)
    args = [str(a) for a in agent.get("args") or []]
    os.makedirs(out, exist_ok=True)
    kust = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": [os.path.relpath(base, out)]}
    ops, env = [], {}
    path = f"/spec/template/spec/containers/{index}/args"

    def set_flag(name, values, add=False):
        at = [i for i, a in enumerate(args) if a.startswith(f"--{name}=")]
        if at:
            if not add:
                ops.extend({"op": "remove", "path": f"{path}/{i}"} for i in reversed(at))
            ops.extend({"op": "add", "path": f"{path}/-", "value": f"--{name}={v}"} for v in values)
        else:
            env[env_name(name)] = ",".join((agent_flag(agent, name, docs) if add else []) + values)

    if "--allow-net" in opts:
        set_flag("allow-net", [opts["--allow-net"]])
    if "--hold" in opts:
        set_flag("hold", [opts["--hold"]])
    if "--ghost" in opts:
        set_flag("backend", ["be_ghost=_http._tcp.ghost"], add=True)
        spec = dep["spec"]["template"]["spec"]
        cm_name = next(v["configMap"]["name"] for v in spec["volumes"] if "configMap" in v)
        cm = find(docs, "ConfigMap", cm_name)
        base_name = re.sub(r"-[a-z0-9]{10}$", "", cm_name)
        (key, cfg), = cm["data"].items()
        with open(os.path.join(out, key), "w") as f:
            f.write(cfg.rstrip("\n") + "\n" + GHOST)
        kust["configMapGenerator"] = [{"name": base_name, "behavior": "replace", "files": [key]}]
    target = {"kind": "Deployment", "name": dep["metadata"]["name"]}
    kust["patches"] = []
    if ops:
        with open(os.path.join(out, "agent-args.yaml"), "w") as f:
            yaml.safe_dump(ops, f, sort_keys=False)
        kust["patches"].append({"path": "agent-args.yaml", "target": target})
    if env:
        patch = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": dep["metadata"]["name"]},
                 "spec": {"template": {"spec": {"containers": [
                     {"name": agent["name"], "env": [{"name": k, "value": v} for k, v in env.items()]}]}}}}
        with open(os.path.join(out, "agent-env.yaml"), "w") as f:
            yaml.safe_dump(patch, f, sort_keys=False)
        kust["patches"].append({"path": "agent-env.yaml"})
    if not kust["patches"]:
        del kust["patches"]
    with open(os.path.join(out, "kustomization.yaml"), "w") as f:
        yaml.safe_dump(kust, f, sort_keys=False)


def main(argv):
    global DRY
    if len(argv) >= 4 and argv[0] in ("up", "plan"):
        DRY = argv[0] == "plan"
        up(*argv[1:4])
    elif len(argv) in (2, 3) and argv[0] == "down":
        down(*argv[1:])
    elif len(argv) == 3 and argv[0] == "service":
        service(*argv[1:])
    elif len(argv) == 2 and argv[0] == "facts":
        facts(argv[1])
    elif len(argv) >= 4 and argv[0] == "overlay":
        opts, rest = {}, argv[4:]
        while rest:
            k = rest.pop(0)
            opts[k] = True if k == "--ghost" else rest.pop(0)
        overlay(argv[1], argv[2], argv[3], opts)
    elif len(argv) == 2 and argv[0] == "ip":
        print(pod_ip(argv[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
