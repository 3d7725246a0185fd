#!/usr/bin/python3
"""Checks deploy/'s manifests without a cluster: every Kubernetes manifest parses and fits the
others (selectors, ports, secret, service address), every container runs as non-root with probes;
the compose file publishes the coordinator on 127.0.0.1 only, with healthchecks and restart
policies. Run by CTest (deploy_manifests)."""
import pathlib
import sys
import unittest

import yaml

DEPLOY = pathlib.Path(__file__).resolve().parent.parent


def k8s_docs():
    docs = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
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


if __name__ == "__main__":
    sys.exit(unittest.main())
