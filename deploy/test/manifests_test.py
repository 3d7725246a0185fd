#!/usr/bin/python3
"""Checks deploy/'s manifests without a cluster: every Kubernetes manifest parses and fits the
others (selectors, ports, secret, service address), every container runs as non-root with probes;
the compose file publishes the coordinator on 127.0.0.1 only, with healthchecks and restart
policies. The same for the HA variants (kubernetes/ha/, docker-compose.ha.yml): coordinators on
one PostgreSQL store whose URI carries no password and names the database's service, each
advertising an address the workers are given. Run by CTest (deploy_manifests)."""
import pathlib
import re
import sys
import unittest
import urllib.parse

import yaml

DEPLOY = pathlib.Path(__file__).resolve().parent.parent


def k8s_docs(folder="kubernetes"):
    docs = []
    for path in sorted((DEPLOY / folder).glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path.name, doc))
    return docs


def pod_specs(docs):
    for name, d in docs:
        if d["kind"] in ("StatefulSet", "Deployment"):
            yield name, d


class Kubernetes(unittest.TestCase):
    def setUp(self):
        self.docs = k8s_docs()
        self.by_kind = {}
        for _, d in self.docs:
            self.by_kind.setdefault(d["kind"], []).append(d)

    def test_every_manifest_is_complete_and_in_the_namespace(self):
        self.assertGreaterEqual(len(self.docs), 5)
        for name, d in self.docs:
            for key in ("apiVersion", "kind", "metadata"):
                self.assertIn(key, d, name)
            self.assertIn("name", d["metadata"], name)
            if d["kind"] != "Namespace":
                self.assertEqual(d["metadata"].get("namespace"), "hollerith", name)
        self.assertEqual({"Namespace", "Secret", "Service", "StatefulSet", "Deployment"},
                         set(self.by_kind))

    def test_the_coordinator_is_one_stateful_replica_with_a_volume_behind_its_service(self):
        (sts,) = self.by_kind["StatefulSet"]
        (svc,) = self.by_kind["Service"]
        self.assertEqual(sts["spec"]["replicas"], 1)
        self.assertEqual(sts["spec"]["serviceName"], svc["metadata"]["name"])
        pod_labels = sts["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(sts["spec"]["selector"]["matchLabels"], pod_labels)
        for k, v in svc["spec"]["selector"].items():
            self.assertEqual(pod_labels.get(k), v)
        (container,) = sts["spec"]["template"]["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        self.assertEqual(ports[svc["spec"]["ports"][0]["targetPort"]], 7070)
        claim = sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        self.assertEqual(mounts[claim], "/var/lib/hollerith")
        self.assertIn("/var/lib/hollerith", container["args"])

    def test_workers_dial_the_coordinators_service(self):
        (svc,) = self.by_kind["Service"]
        (dep,) = self.by_kind["Deployment"]
        (container,) = dep["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e["value"] for e in container["env"]}
        self.assertEqual(env["HOLLERITH_COORDINATOR"],
                         f"{svc['metadata']['name']}:{svc['spec']['ports'][0]['port']}")

    def test_every_pod_is_non_root_has_probes_and_mounts_the_token_secret(self):
        secrets = {s["metadata"]["name"] for s in self.by_kind["Secret"]}
        for name, d in pod_specs(self.docs):
            spec = d["spec"]["template"]["spec"]
            self.assertTrue(spec["securityContext"]["runAsNonRoot"], name)
            self.assertNotEqual(spec["securityContext"]["runAsUser"], 0, name)
            volumes = {v["name"]: v for v in spec["volumes"]}
            for c in spec["containers"]:
                self.assertTrue(c["image"].startswith("hollerith-"), name)
                self.assertIn("readinessProbe", c, name)
                self.assertFalse(c["securityContext"]["allowPrivilegeEscalation"], name)
                env = {e["name"]: e["value"] for e in c["env"]}
                token_mount = [m for m in c["volumeMounts"] if m.get("readOnly")]
                self.assertEqual(len(token_mount), 1, name)
                self.assertTrue(env["HOLLERITH_TOKEN_FILE"].startswith(token_mount[0]["mountPath"]))
                self.assertIn(volumes[token_mount[0]["name"]]["secret"]["secretName"], secrets)


class Compose(unittest.TestCase):
    def setUp(self):
        self.compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
        self.services = self.compose["services"]

    def test_coordinator_is_published_on_loopback_only_with_a_named_volume(self):
        c = self.services["coordinator"]
        self.assertEqual(len(c["ports"]), 1)
        self.assertTrue(c["ports"][0].startswith("127.0.0.1:"), c["ports"])
        data = [v for v in c["volumes"] if v.endswith(":/var/lib/hollerith")]
        self.assertEqual(len(data), 1)
        self.assertIn(data[0].split(":")[0], self.compose["volumes"])

    def test_every_service_has_a_healthcheck_a_restart_policy_and_the_token_read_only(self):
        self.assertEqual({"coordinator", "x", "y", "z", "worker"}, set(self.services))
        for name, s in self.services.items():
            self.assertIn("healthcheck", s, name)
            self.assertEqual(s["restart"], "unless-stopped", name)
            tokens = [v for v in s["volumes"] if ":/etc/hollerith/token" in v]
            self.assertEqual(len(tokens), 1, name)
            self.assertTrue(tokens[0].endswith(":ro"), name)
            self.assertTrue(s.get("init"), name)

    def test_named_workers_carry_labels_and_the_scaled_one_starts_at_zero(self):
        for name in ("x", "y", "z"):
            self.assertEqual(self.services[name]["hostname"], name)
            self.assertIn("--labels", self.services[name]["command"])
        self.assertEqual(self.services["worker"]["scale"], 0)
        self.assertNotIn("hostname", self.services["worker"])


def flag(args, name):
    """The value after `name` in an argument list (None when absent)."""
    return args[args.index(name) + 1] if name in args else None


def check_store_uri(test, uri):
    """A postgres:// store URI without a password; returns (user, host, port, db)."""
    u = urllib.parse.urlsplit(uri)
    test.assertEqual(u.scheme, "postgres", uri)
    test.assertIsNone(u.password, f"a password in the store URI {uri}")
    test.assertTrue(u.username and u.hostname and u.path.strip("/"), uri)
    return u.username, u.hostname, u.port or 5432, u.path.strip("/")


def pgpass_matches(line, user, host, port, db):
    fields = re.split(r"(?<!\\):", line.strip(), maxsplit=4)
    if len(fields) != 5 or not fields[4]:
        return False
    want = (host, str(port), db, user)
    return all(f in ("*", w) for f, w in zip(fields[:4], want))


class KubernetesHA(unittest.TestCase):
    def setUp(self):
        self.docs = k8s_docs("kubernetes/ha")
        self.by_kind = {}
        for _, d in self.docs:
            self.by_kind.setdefault(d["kind"], []).append(d)
        self.base = {d["kind"] + "/" + d["metadata"]["name"]: d for _, d in k8s_docs()}
        (self.dep,) = self.by_kind["Deployment"]
        self.pod = self.dep["spec"]["template"]["spec"]
        (self.container,) = self.pod["containers"]
        self.services = {s["metadata"]["name"]: s for s in self.by_kind["Service"]}

    def test_every_manifest_is_complete_and_in_the_namespace(self):
        for name, d in self.docs:
            for key in ("apiVersion", "kind", "metadata"):
                self.assertIn(key, d, name)
            self.assertEqual(d["metadata"].get("namespace"), "hollerith", name)
        self.assertEqual({"Secret", "Service", "Deployment", "PodDisruptionBudget"},
                         set(self.by_kind))
        self.assertIn("Namespace/hollerith", self.base)

    def test_two_coordinator_replicas_behind_a_headless_service(self):
        self.assertEqual(self.dep["spec"]["replicas"], 2)
        pod_labels = self.dep["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(self.dep["spec"]["selector"]["matchLabels"], pod_labels)
        svc = self.services[self.dep["metadata"]["name"]]
        self.assertEqual(svc["spec"]["clusterIP"], "None")  # one record per pod
        self.assertTrue(svc["spec"].get("publishNotReadyAddresses"))
        for k, v in svc["spec"]["selector"].items():
            self.assertEqual(pod_labels.get(k), v)
        ports = {p["name"]: p["containerPort"] for p in self.container["ports"]}
        self.assertEqual(ports[svc["spec"]["ports"][0]["targetPort"]], 7070)
        (pdb,) = self.by_kind["PodDisruptionBudget"]
        self.assertEqual(pdb["spec"]["selector"]["matchLabels"], pod_labels)
        self.assertEqual(pdb["spec"]["maxUnavailable"], 1)
        # Each pod's own data dir: a Deployment shares no claim between its replicas.
        self.assertNotIn("volumeClaimTemplates", self.dep["spec"])
        volumes = {v["name"]: v for v in self.pod["volumes"]}
        (data,) = [m for m in self.container["volumeMounts"]
                   if m["mountPath"] == flag(self.container["args"], "--data-dir")]
        self.assertIn("emptyDir", volumes[data["name"]])

    def test_each_coordinator_advertises_its_pod_ip(self):
        args = self.container["args"]
        self.assertEqual(flag(args, "--advertise"), "$(POD_IP):7070")
        self.assertEqual(flag(args, "--listen"), "0.0.0.0:7070")
        env = {e["name"]: e for e in self.container["env"]}
        self.assertEqual(env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"], "status.podIP")
        self.assertTrue(flag(args, "--leader-lease-ms").isdigit())

    def test_the_store_is_the_external_postgres_service_with_the_secret_passfile(self):
        args = self.container["args"]
        user, host, port, db = check_store_uri(self, flag(args, "--store"))
        pg = self.services[host]
        self.assertNotIn("selector", pg["spec"])  # outside the cluster's pods
        if pg["spec"].get("type") == "ExternalName":
            self.assertTrue(pg["spec"]["externalName"])
        else:
            self.assertIn("Endpoints/" + host, {d["kind"] + "/" + d["metadata"]["name"]
                                                for _, d in self.docs})
        self.assertIn(port, [p["port"] for p in pg["spec"]["ports"]])
        # The passfile: the Secret's file, copied by an init container to a volume of the pod.
        passfile = pathlib.PurePosixPath(flag(args, "--store-passfile"))
        volumes = {v["name"]: v for v in self.pod["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in self.container["volumeMounts"]}
        run = mounts[str(passfile.parent)]
        (init,) = self.pod["initContainers"]
        init_mounts = {m["name"]: m["mountPath"] for m in init["volumeMounts"]}
        self.assertEqual(init_mounts[run], str(passfile.parent))
        script = " ".join(init["command"])
        self.assertIn(str(passfile), script)
        self.assertIn("chmod 0600", script)  # libpq ignores a group-readable password file
        secret_volume = [n for n in init_mounts if "secret" in volumes[n]]
        self.assertEqual(len(secret_volume), 1)
        secret_name = volumes[secret_volume[0]]["secret"]["secretName"]
        (secret,) = [s for s in self.by_kind["Secret"] if s["metadata"]["name"] == secret_name]
        (content,) = secret["stringData"].values()
        self.assertTrue(pgpass_matches(content.splitlines()[0], user, host, port, db), content)

    def test_workers_dial_the_headless_service_by_name(self):
        worker = self.base["Deployment/hollerith-worker"]
        (c,) = worker["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in c["env"]}
        svc = self.services[self.dep["metadata"]["name"]]
        self.assertEqual(env["HOLLERITH_COORDINATOR"],
                         f"{svc['metadata']['name']}:{svc['spec']['ports'][0]['port']}")

    def test_every_pod_is_non_root_has_probes_and_mounts_the_token_secret(self):
        spec = self.pod
        self.assertTrue(spec["securityContext"]["runAsNonRoot"])
        self.assertNotEqual(spec["securityContext"]["runAsUser"], 0)
        volumes = {v["name"]: v for v in spec["volumes"]}
        secrets = {k.split("/", 1)[1] for k in self.base if k.startswith("Secret/")}
        for c in spec["containers"] + spec["initContainers"]:
            self.assertTrue(c["image"].startswith("hollerith-"), c["name"])
            self.assertFalse(c["securityContext"]["allowPrivilegeEscalation"], c["name"])
        c = self.container
        self.assertIn("readinessProbe", c)
        self.assertIn("livenessProbe", c)
        # A standby is ready too (it answers, naming the leader), or rollouts would never end.
        self.assertIn("not the leader", " ".join(c["readinessProbe"]["exec"]["command"]))
        env = {e["name"]: e.get("value") for e in c["env"]}
        token = [m for m in c["volumeMounts"]
                 if env["HOLLERITH_TOKEN_FILE"].startswith(m["mountPath"] + "/")]
        self.assertEqual(len(token), 1)
        self.assertTrue(token[0].get("readOnly"))
        self.assertIn(volumes[token[0]["name"]]["secret"]["secretName"], secrets)


class ComposeHA(unittest.TestCase):
    """docker-compose.ha.yml on top of docker-compose.yml (as compose merges them)."""

    def setUp(self):
        self.base = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
        self.ha = yaml.safe_load((DEPLOY / "docker-compose.ha.yml").read_text())
        self.services = self.ha["services"]
        self.coordinators = {n: s for n, s in self.services.items()
                             if n.startswith("coordinator")}

    def test_it_overrides_the_base_services_and_adds_postgres_and_a_second_coordinator(self):
        self.assertEqual(self.ha["version"], self.base["version"])
        self.assertEqual({"postgres", "coordinator-b"},
                         set(self.services) - set(self.base["services"]))
        self.assertEqual(set(self.base["services"]),
                         set(self.services) - {"postgres", "coordinator-b"})
        self.assertEqual(set(self.coordinators), {"coordinator", "coordinator-b"})

    def test_postgres_is_not_published_and_reads_the_password_file(self):
        pg = self.services["postgres"]
        self.assertNotIn("ports", pg)
        self.assertEqual(pg["image"].split(":")[0], "hollerith-postgres")
        self.assertEqual(pg["stop_signal"], "SIGINT")
        self.assertIn("healthcheck", pg)
        self.assertEqual(pg["restart"], "unless-stopped")
        data = [v for v in pg["volumes"] if v.endswith(":/var/lib/postgresql/data")]
        self.assertEqual(len(data), 1)
        self.assertIn(data[0].split(":")[0], self.ha["volumes"])
        self.assertTrue(any(v.endswith(":/etc/hollerith/pgpass:ro") for v in pg["volumes"]))

    def test_coordinators_share_the_store_and_advertise_their_service_names(self):
        for name, c in self.coordinators.items():
            args = c["command"]
            user, host, port, db = check_store_uri(self, flag(args, "--store"))
            self.assertEqual(host, "postgres")
            self.assertEqual(flag(args, "--advertise"), f"{name}:7070")
            self.assertEqual(flag(args, "--listen"), "0.0.0.0:7070")
            passfile = flag(args, "--store-passfile")
            self.assertTrue(any(v.endswith(f":{passfile}:ro") for v in c["volumes"]), name)
            self.assertEqual(c["depends_on"]["postgres"]["condition"], "service_healthy")
            self.assertIn("not the leader", " ".join(c["healthcheck"]["test"]))
            self.assertTrue(c.get("init"))
            self.assertEqual(c["restart"], "unless-stopped")
        # Only the base's coordinator publishes a port there; the second one on 127.0.0.1 too,
        # with its own data volume.
        b = self.services["coordinator-b"]
        self.assertEqual(len(b["ports"]), 1)
        self.assertTrue(b["ports"][0].startswith("127.0.0.1:"), b["ports"])
        self.assertNotIn("ports", self.services["coordinator"])
        data = [v.split(":")[0] for v in b["volumes"] if v.endswith(":/var/lib/hollerith")]
        self.assertEqual(len(data), 1)
        self.assertIn(data[0], self.ha["volumes"])
        self.assertNotIn(data[0], self.base["volumes"])
        self.assertTrue(any(v.endswith(":/etc/hollerith/token:ro") for v in b["volumes"]))

    def test_workers_are_given_every_coordinator(self):
        advertised = sorted(flag(c["command"], "--advertise") for c in self.coordinators.values())
        for name in set(self.services) - {"postgres", "coordinator", "coordinator-b"}:
            given = self.services[name]["environment"]["HOLLERITH_COORDINATOR"]
            self.assertEqual(sorted(given.split(",")), advertised, name)


if __name__ == "__main__":
    sys.exit(unittest.main())
