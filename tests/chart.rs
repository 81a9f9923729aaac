//! The Helm chart `charts/urlguard`, with the real helm v4 and kubectl v1.35
//! (`.tools/bin/`, from `make setup`): it lints and renders in every mode
//! (cluster-wide, one namespace, without leader election), its schema
//! refuses wrong values naming them, the rendered objects pass the API
//! server's dry run, `helm install`/`uninstall` against the kube emulator
//! create and remove them (the CRDs stay), the RBAC grants exactly the
//! verbs the controller uses (ConfigMaps only when `configMapExport` grants
//! them, and only where it says), the Deployment carries the controller's
//! contract (arguments, environment, probes, a locked-down security
//! context), the NetworkPolicy admits only the metrics port from the
//! configured peers, the PodDisruptionBudget comes with more than one
//! replica, the soft anti-affinity is the default a user's `affinity`
//! replaces, and the chart's CRDs are the top-level `crds/` (annotated so
//! that neither Argo CD nor Helm deletes them).

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Value, json};
use support::kube::{Cluster, ok, run, scratch};

const CHART: &str = "charts/urlguard";
const NAMESPACE: &str = "urlguard-system";
/// `helm template urlguard charts/urlguard -n urlguard-system` with `sets`,
/// as a list of objects.
fn template(dir: &Path, sets: &[&str]) -> Vec<Value> {
    let mut args = vec!["template", "urlguard", CHART, "-n", NAMESPACE];
    for set in sets {
        args.extend(["--set", set]);
    }
    parse_documents(&ok("helm", dir, None, &args))
}

fn parse_documents(text: &str) -> Vec<Value> {
    yaml_serde::Deserializer::from_str(text)
        .map(|document| Value::deserialize(document).expect("rendered YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

fn kinds(objects: &[Value]) -> BTreeSet<String> {
    objects
        .iter()
        .map(|o| o["kind"].as_str().expect("kind").to_owned())
        .collect()
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {:#?}", kinds(objects)))
}

/// The controller's rules: exactly what it calls, nothing else.
fn controller_rules() -> Value {
    json!([
        {"apiGroups": ["urlguard.io"], "resources": ["edgedistributions", "protectedfunctionurls"],
         "verbs": ["get", "list", "watch", "patch", "update"]},
        {"apiGroups": ["urlguard.io"], "resources": ["edgedistributions/status", "protectedfunctionurls/status"],
         "verbs": ["get", "patch", "update"]},
        {"apiGroups": ["urlguard.io"], "resources": ["edgedistributions/finalizers", "protectedfunctionurls/finalizers"],
         "verbs": ["update", "patch"]},
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
    ])
}

/// The lease rules: create (RBAC cannot limit it by name), and only our
/// lease for the rest.
fn lease_rules(instance: &str) -> Value {
    json!([
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
         "resourceNames": [format!("{instance}-controller")], "verbs": ["get", "patch", "update"]},
    ])
}

fn container(objects: &[Value]) -> &Value {
    let deployment = find(objects, "Deployment", "urlguard");
    let containers = deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    assert_eq!(containers.len(), 1);
    &containers[0]
}

fn args(objects: &[Value]) -> Vec<String> {
    container(objects)["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string arg").to_owned())
        .collect()
}

fn env(objects: &[Value], name: &str) -> Option<Value> {
    container(objects)["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == name)
        .cloned()
}

#[test]
fn the_chart_carries_the_top_level_crds() {
    let root = support::repo_root();
    let top = std::fs::read_to_string(root.join("crds/urlguard.io_crds.yaml")).expect("crds/");
    let chart = std::fs::read_to_string(root.join("charts/urlguard/crds/urlguard.io_crds.yaml"))
        .expect("charts/urlguard/crds/");
    assert!(
        top == chart,
        "charts/urlguard/crds/ differs from crds/: run `make crds` and commit the result"
    );
}

#[test]
fn helm_lint_passes_in_every_mode() {
    let dir = scratch("lint");
    for sets in [
        &[][..],
        &["watchNamespace=books"][..],
        &["leaderElection.enabled=false", "replicaCount=1"][..],
        &["configMapExport.enabled=true"][..],
        &[
            "configMapExport.enabled=true",
            "configMapExport.namespaces={books,films}",
        ][..],
    ] {
        let mut args = vec!["lint", "--strict", CHART];
        for set in sets {
            args.extend(["--set", set]);
        }
        let out = ok("helm", &dir, None, &args);
        assert!(out.contains("0 chart(s) failed"), "{sets:?}: {out}");
    }
}

#[test]
fn cluster_wide_by_default_with_exactly_the_controllers_verbs() {
    let objects = template(&scratch("default"), &[]);
    assert_eq!(
        kinds(&objects),
        BTreeSet::from(
            [
                "ClusterRole",
                "ClusterRoleBinding",
                "Deployment",
                "NetworkPolicy",
                "PodDisruptionBudget",
                "Role",
                "RoleBinding",
                "Service",
                "ServiceAccount"
            ]
            .map(str::to_owned)
        )
    );
    let cluster_role = find(&objects, "ClusterRole", "urlguard");
    assert_eq!(cluster_role["rules"], controller_rules());
    let binding = find(&objects, "ClusterRoleBinding", "urlguard");
    assert_eq!(binding["roleRef"]["kind"], "ClusterRole");
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": "urlguard", "namespace": NAMESPACE}])
    );

    // The lease is namespaced even when the rest is cluster-wide.
    let lease_role = find(&objects, "Role", "urlguard-leader-election");
    assert_eq!(lease_role["metadata"]["namespace"], NAMESPACE);
    assert_eq!(lease_role["rules"], lease_rules("urlguard"));
    let lease_binding = find(&objects, "RoleBinding", "urlguard-leader-election");
    assert_eq!(lease_binding["roleRef"]["name"], "urlguard-leader-election");
    assert_eq!(lease_binding["subjects"][0]["name"], "urlguard");

    // Namespaces are read (get only) for their account annotation.
    let reader = find(&objects, "ClusterRole", "urlguard-namespace-reader");
    assert_eq!(
        reader["rules"],
        json!([{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}])
    );
    let reader_binding = find(&objects, "ClusterRoleBinding", "urlguard-namespace-reader");
    assert_eq!(
        reader_binding["roleRef"]["name"],
        "urlguard-namespace-reader"
    );
    assert_eq!(reader_binding["subjects"][0]["name"], "urlguard");

    // No other object grants anything.
    let granting: Vec<&Value> = objects.iter().filter(|o| o["rules"].is_array()).collect();
    assert_eq!(granting.len(), 3);
}

#[test]
fn the_deployment_follows_the_controller_contract_and_is_locked_down() {
    let objects = template(&scratch("deployment"), &[]);
    let deployment = find(&objects, "Deployment", "urlguard");
    assert_eq!(deployment["metadata"]["namespace"], NAMESPACE);
    assert_eq!(deployment["spec"]["replicas"], 2);
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "urlguard");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 65532);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let container = container(&objects);
    assert_eq!(container["image"], "ghcr.io/urlguard/urlguard:0.1.0");
    assert_eq!(
        args(&objects),
        [
            "controller",
            "--instance",
            "urlguard",
            "--ssm-prefix",
            "/{namespace}/",
            "--log-format",
            "json",
            "--metrics-address",
            "0.0.0.0:8080",
            "--teardown-attempts",
            "5"
        ]
    );
    let security = &container["securityContext"];
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["runAsUser"], 65532);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
    assert_eq!(
        container["ports"],
        json!([{"name": "metrics", "containerPort": 8080, "protocol": "TCP"}])
    );
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["livenessProbe"]["httpGet"]["port"], "metrics");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["readinessProbe"]["httpGet"]["port"], "metrics");
    assert_eq!(
        container["resources"],
        json!({"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}})
    );
    assert_eq!(
        env(&objects, "POD_NAME"),
        Some(
            json!({"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
        )
    );
    assert_eq!(
        env(&objects, "POD_NAMESPACE"),
        Some(
            json!({"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}})
        )
    );
    assert_eq!(
        env(&objects, "AWS_REGION"),
        Some(json!({"name": "AWS_REGION", "value": "us-east-1"}))
    );
    assert_eq!(env(&objects, "AWS_ENDPOINT_URL"), None);

    let service = find(&objects, "Service", "urlguard-metrics");
    assert_eq!(
        service["spec"]["ports"],
        json!([{"name": "metrics", "port": 8080, "targetPort": "metrics", "protocol": "TCP"}])
    );
    assert_eq!(
        service["spec"]["selector"],
        deployment["spec"]["selector"]["matchLabels"]
    );
}

#[test]
fn values_reach_the_controller() {
    let objects = template(
        &scratch("values"),
        &[
            "instanceName=team-a",
            "ssmPrefix=/apps/{namespace}/",
            "aws.assumeRoleArn=arn:aws:iam::210987654321:role/urlguard-target",
            "aws.rateLimits.lambda=3",
            "aws.rateLimits.lambda:GetFunction=20",
            "aws.namespaceRoles={books=arn:aws:iam::111111111111:role/urlguard,*=222222222222}",
            "logFormat=text",
            "teardownAttempts=2",
            "aws.region=eu-west-1",
            "aws.endpointUrl=http://aws.local:4566",
            "image.tag=0.2.0",
            "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::123456789012:role/urlguard",
            "metrics.serviceMonitor.enabled=true",
        ],
    );
    assert_eq!(
        args(&objects),
        [
            "controller",
            "--instance",
            "team-a",
            "--ssm-prefix",
            "/apps/{namespace}/",
            "--log-format",
            "text",
            "--metrics-address",
            "0.0.0.0:8080",
            "--teardown-attempts",
            "2",
            "--aws-assume-role-arn",
            "arn:aws:iam::210987654321:role/urlguard-target",
            "--aws-namespace-role",
            "books=arn:aws:iam::111111111111:role/urlguard",
            "--aws-namespace-role",
            "*=222222222222",
            "--aws-rate-limit",
            "lambda=3",
            "--aws-rate-limit",
            "lambda:GetFunction=20"
        ]
    );
    assert_eq!(
        container(&objects)["image"],
        "ghcr.io/urlguard/urlguard:0.2.0"
    );
    assert_eq!(
        env(&objects, "AWS_REGION"),
        Some(json!({"name": "AWS_REGION", "value": "eu-west-1"}))
    );
    assert_eq!(
        env(&objects, "AWS_ENDPOINT_URL"),
        Some(json!({"name": "AWS_ENDPOINT_URL", "value": "http://aws.local:4566"}))
    );
    assert_eq!(
        find(&objects, "ServiceAccount", "urlguard")["metadata"]["annotations"],
        json!({"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/urlguard"})
    );
    assert_eq!(
        find(&objects, "Role", "urlguard-leader-election")["rules"],
        lease_rules("team-a")
    );
    let monitor = find(&objects, "ServiceMonitor", "urlguard");
    assert_eq!(monitor["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "metrics");
}

#[test]
fn one_namespace_gets_a_role_and_the_namespace_argument() {
    let objects = template(&scratch("namespaced"), &["watchNamespace=books"]);
    // The only cluster-wide grant: reading the watched Namespace.
    let cluster_roles: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == "ClusterRole" || o["kind"] == "ClusterRoleBinding")
        .collect();
    assert_eq!(cluster_roles.len(), 2);
    assert_eq!(
        find(&objects, "ClusterRole", "urlguard-namespace-reader")["rules"],
        json!([{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"], "resourceNames": ["books"]}])
    );
    let role = find(&objects, "Role", "urlguard");
    assert_eq!(role["metadata"]["namespace"], "books");
    assert_eq!(role["rules"], controller_rules());
    let binding = find(&objects, "RoleBinding", "urlguard");
    assert_eq!(binding["metadata"]["namespace"], "books");
    assert_eq!(binding["roleRef"]["kind"], "Role");
    assert_eq!(binding["subjects"][0]["namespace"], NAMESPACE);
    let lease_role = find(&objects, "Role", "urlguard-leader-election");
    assert_eq!(lease_role["metadata"]["namespace"], NAMESPACE);
    let args = args(&objects);
    assert_eq!(args[args.len() - 2..], ["--namespace", "books"]);
    assert!(!args.contains(&"--leader-election".to_owned()));
}

/// The ConfigMap rule: what `spec.configMapExport` calls (get; create and
/// patch for server-side apply; delete), nothing else (no list, watch or
/// update).
fn config_map_rules() -> Value {
    json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "create", "patch", "delete"]}])
}

#[test]
fn config_maps_are_granted_only_when_asked_and_only_where_listed() {
    let dir = scratch("config-maps");
    let rules_on = |objects: &[Value]| -> Vec<String> {
        objects
            .iter()
            .filter(|o| o["rules"].to_string().contains("configmaps"))
            .map(|o| {
                format!(
                    "{} {}",
                    o["kind"].as_str().unwrap_or_default(),
                    o["metadata"]["namespace"].as_str().unwrap_or("(cluster)")
                )
            })
            .collect()
    };
    assert!(rules_on(&template(&dir, &[])).is_empty(), "off by default");

    let everywhere = template(&dir, &["configMapExport.enabled=true"]);
    assert_eq!(rules_on(&everywhere), ["ClusterRole (cluster)"]);
    assert_eq!(
        find(&everywhere, "ClusterRole", "urlguard-config-maps")["rules"],
        config_map_rules()
    );
    let binding = find(&everywhere, "ClusterRoleBinding", "urlguard-config-maps");
    assert_eq!(binding["roleRef"]["name"], "urlguard-config-maps");
    assert_eq!(binding["subjects"][0]["name"], "urlguard");
    // The controller's own rules are unchanged.
    assert_eq!(
        find(&everywhere, "ClusterRole", "urlguard")["rules"],
        controller_rules()
    );

    let listed = template(
        &dir,
        &[
            "configMapExport.enabled=true",
            "configMapExport.namespaces={books,films}",
        ],
    );
    assert_eq!(rules_on(&listed), ["Role books", "Role films"]);
    let bindings: Vec<(&Value, &Value)> = listed
        .iter()
        .filter(|o| o["kind"] == "RoleBinding" && o["metadata"]["name"] == "urlguard-config-maps")
        .map(|o| (&o["metadata"]["namespace"], &o["roleRef"]["kind"]))
        .collect();
    assert_eq!(
        bindings,
        [
            (&json!("books"), &json!("Role")),
            (&json!("films"), &json!("Role"))
        ]
    );
    assert!(
        listed
            .iter()
            .filter(|o| o["metadata"]["name"] == "urlguard-config-maps")
            .all(|o| o["kind"] == "Role" || o["kind"] == "RoleBinding"),
        "nothing cluster-wide for listed namespaces"
    );

    let watched = template(
        &dir,
        &["configMapExport.enabled=true", "watchNamespace=books"],
    );
    assert_eq!(rules_on(&watched), ["Role books"]);
    let both = run(
        "helm",
        &dir,
        None,
        &[
            "template",
            "urlguard",
            CHART,
            "--set",
            "configMapExport.enabled=true",
            "--set",
            "watchNamespace=books",
            "--set",
            "configMapExport.namespaces={films}",
        ],
    );
    assert!(!both.ok);
    assert!(
        both.stderr.contains("configMapExport.namespaces"),
        "{}",
        both.stderr
    );
}

#[test]
fn leader_election_off_is_passed_on_and_allows_one_replica_only() {
    let dir = scratch("no-leader");
    let objects = template(&dir, &["leaderElection.enabled=false", "replicaCount=1"]);
    let args = args(&objects);
    assert_eq!(args[args.len() - 2..], ["--leader-election", "false"]);
    assert_eq!(
        find(&objects, "Deployment", "urlguard")["spec"]["replicas"],
        1
    );

    let refused = run(
        "helm",
        &dir,
        None,
        &[
            "template",
            "urlguard",
            CHART,
            "--set",
            "leaderElection.enabled=false",
        ],
    );
    assert!(!refused.ok);
    assert!(
        refused.stderr.contains("/replicaCount"),
        "{}",
        refused.stderr
    );
}

#[test]
fn wrong_values_are_refused_naming_the_value() {
    let dir = scratch("wrong");
    for (set, named) in [
        ("logFormat=yaml", "/logFormat"),
        ("replicaCount=-1", "/replicaCount"),
        ("replicaCount=two", "/replicaCount"),
        ("teardownAttempts=0", "/teardownAttempts"),
        ("watchNamespce=books", "watchNamespce"),
        ("aws.regoin=eu-west-1", "regoin"),
        ("instanceName=Team_A", "/instanceName"),
        ("ssmPrefix=books", "/ssmPrefix"),
        ("aws.assumeRoleArn=urlguard-target", "/aws/assumeRoleArn"),
        (
            "aws.namespaceRoles={books=urlguard}",
            "/aws/namespaceRoles/0",
        ),
        ("aws.rateLimits.s3=1", "'s3' does not match"),
        ("aws.rateLimits.lambda=-1", "/aws/rateLimits/lambda"),
        ("image.pullPolicy=Sometimes", "/image/pullPolicy"),
        ("metrics.service.port=0", "/metrics/service/port"),
        ("networkPolicy.enabled=maybe", "/networkPolicy/enabled"),
        (
            "networkPolicy.metrics.podSelector.app=prometheus",
            "/networkPolicy/metrics/podSelector",
        ),
        (
            "networkPolicy.egress.ports[0]=0",
            "/networkPolicy/egress/ports/0",
        ),
        ("configMapExport.enabled=yes", "/configMapExport/enabled"),
        (
            "configMapExport.namespaces={Books}",
            "/configMapExport/namespaces/0",
        ),
    ] {
        for command in ["template", "lint"] {
            let args: Vec<&str> = if command == "lint" {
                vec!["lint", CHART, "--set", set]
            } else {
                vec!["template", "urlguard", CHART, "--set", set]
            };
            let out = run("helm", &dir, None, &args);
            assert!(!out.ok, "helm {command} --set {set} passed");
            let said = format!("{}{}", out.stdout, out.stderr);
            assert!(
                said.contains("schema") && said.contains(named),
                "helm {command} --set {set} does not name {named}:\n{said}"
            );
        }
    }
}

fn selector_labels() -> Value {
    json!({"app.kubernetes.io/name": "urlguard", "app.kubernetes.io/instance": "urlguard"})
}

#[test]
fn the_network_policy_admits_only_the_metrics_port_from_the_configured_peers() {
    let dir = scratch("network-policy");
    let policy = |sets: &[&str]| find(&template(&dir, sets), "NetworkPolicy", "urlguard").clone();

    // By default: the controller's pods, ingress only, the metrics port only,
    // from the release namespace's pods only; egress unrestricted.
    let default = policy(&[]);
    assert_eq!(default["metadata"]["namespace"], NAMESPACE);
    assert_eq!(
        default["spec"]["podSelector"],
        json!({"matchLabels": selector_labels()})
    );
    assert_eq!(default["spec"]["policyTypes"], json!(["Ingress"]));
    assert_eq!(
        default["spec"]["ingress"],
        json!([{"ports": [{"protocol": "TCP", "port": "metrics"}], "from": [{"podSelector": {}}]}])
    );
    assert!(default["spec"]["egress"].is_null());
    // The named port is the container's 8080.
    let objects = template(&dir, &[]);
    assert_eq!(
        container(&objects)["ports"],
        json!([{"name": "metrics", "containerPort": 8080, "protocol": "TCP"}])
    );

    // Both selectors: one peer where both must match, plus the extra peers.
    let configured = policy(&[
        "networkPolicy.metrics.namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=monitoring",
        "networkPolicy.metrics.podSelector.matchLabels.app\\.kubernetes\\.io/name=prometheus",
        "networkPolicy.metrics.extraFrom[0].ipBlock.cidr=10.0.0.0/16",
    ]);
    assert_eq!(
        configured["spec"]["ingress"],
        json!([{
            "ports": [{"protocol": "TCP", "port": "metrics"}],
            "from": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                 "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}},
                {"ipBlock": {"cidr": "10.0.0.0/16"}},
            ],
        }])
    );
    // A namespace selector alone: every pod of those namespaces.
    let namespaces = policy(&["networkPolicy.metrics.namespaceSelector.matchLabels.team=obs"]);
    assert_eq!(
        namespaces["spec"]["ingress"][0]["from"],
        json!([{"namespaceSelector": {"matchLabels": {"team": "obs"}}}])
    );

    // Egress on request: DNS and the configured TCP ports, anywhere.
    let egress = policy(&[
        "networkPolicy.egress.enabled=true",
        "networkPolicy.egress.ports={443,6443}",
    ]);
    assert_eq!(egress["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    assert_eq!(
        egress["spec"]["egress"],
        json!([
            {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
            {"ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}]},
        ])
    );

    let off = template(&dir, &["networkPolicy.enabled=false"]);
    assert!(!kinds(&off).contains("NetworkPolicy"));
}

#[test]
fn a_disruption_budget_only_with_more_than_one_replica() {
    let dir = scratch("pdb");
    let objects = template(&dir, &["replicaCount=2"]);
    let budget = find(&objects, "PodDisruptionBudget", "urlguard");
    assert_eq!(budget["apiVersion"], "policy/v1");
    assert_eq!(budget["metadata"]["namespace"], NAMESPACE);
    assert_eq!(budget["spec"]["maxUnavailable"], 1);
    assert_eq!(
        budget["spec"]["selector"],
        json!({"matchLabels": selector_labels()})
    );
    // It selects the Deployment's pods.
    assert_eq!(
        find(&objects, "Deployment", "urlguard")["spec"]["selector"],
        budget["spec"]["selector"]
    );

    assert!(kinds(&template(&dir, &["replicaCount=3"])).contains("PodDisruptionBudget"));
    for replicas in ["replicaCount=1", "replicaCount=0"] {
        let objects = template(&dir, &[replicas]);
        assert!(
            !kinds(&objects).contains("PodDisruptionBudget"),
            "{replicas}"
        );
    }
}

#[test]
fn soft_anti_affinity_by_default_and_the_users_affinity_replaces_it() {
    let dir = scratch("affinity");
    let affinity = |sets: &[&str]| {
        find(&template(&dir, sets), "Deployment", "urlguard")["spec"]["template"]["spec"]
            ["affinity"]
            .clone()
    };
    assert_eq!(
        affinity(&[]),
        json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 100,
            "podAffinityTerm": {
                "topologyKey": "kubernetes.io/hostname",
                "labelSelector": {"matchLabels": selector_labels()},
            },
        }]}})
    );
    let mine = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "node-role", "operator": "In", "values": ["system"]}
        ]}]
    }}});
    let values = dir.join("affinity.yaml");
    std::fs::write(
        &values,
        yaml_serde::to_string(&json!({"affinity": mine})).expect("YAML"),
    )
    .expect("values file");
    let mut args = vec!["template", "urlguard", CHART, "-n", NAMESPACE, "-f"];
    let values = values.to_string_lossy().into_owned();
    args.push(&values);
    let objects = parse_documents(&ok("helm", &dir, None, &args));
    assert_eq!(
        find(&objects, "Deployment", "urlguard")["spec"]["template"]["spec"]["affinity"],
        mine
    );
}

/// The objects a default install makes, as `kubectl get` arguments.
const INSTALLED: [&[&str]; 9] = [
    &["deployment", "urlguard", "-n", NAMESPACE],
    &["networkpolicy", "urlguard", "-n", NAMESPACE],
    &["poddisruptionbudget", "urlguard", "-n", NAMESPACE],
    &["serviceaccount", "urlguard", "-n", NAMESPACE],
    &["service", "urlguard-metrics", "-n", NAMESPACE],
    &["role", "urlguard-leader-election", "-n", NAMESPACE],
    &["rolebinding", "urlguard-leader-election", "-n", NAMESPACE],
    &["clusterrole", "urlguard"],
    &["clusterrolebinding", "urlguard"],
];

const CRDS: [&str; 2] = [
    "edgedistributions.urlguard.io",
    "protectedfunctionurls.urlguard.io",
];

// The tools block this worker while the emulator serves on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendered_objects_pass_a_server_side_dry_run() {
    let cluster = Cluster::start("dry-run").await;
    // As on a real server, a dry run does not create the namespace for later
    // objects of the same file: it must exist.
    cluster.ok("kubectl", &["create", "namespace", NAMESPACE]);
    cluster.ok("kubectl", &["create", "namespace", "books"]);
    for (name, sets) in [
        ("default", &[][..]),
        ("namespaced", &["watchNamespace=books"][..]),
        (
            "no-leader",
            &["leaderElection.enabled=false", "replicaCount=1"][..],
        ),
        ("config-maps", &["configMapExport.enabled=true"][..]),
        (
            "config-maps-listed",
            &[
                "configMapExport.enabled=true",
                "configMapExport.namespaces={books}",
            ][..],
        ),
    ] {
        let mut args = vec![
            "template",
            "urlguard",
            CHART,
            "-n",
            NAMESPACE,
            "--include-crds",
        ];
        for set in sets {
            args.extend(["--set", set]);
        }
        let rendered = cluster.dir.join(format!("{name}.yaml"));
        std::fs::write(&rendered, cluster.ok("helm", &args)).expect("rendered");
        let rendered = rendered.to_string_lossy().into_owned();
        let out = cluster.ok("kubectl", &["apply", "--dry-run=server", "-f", &rendered]);
        assert!(
            out.contains("deployment.apps/urlguard created (server dry run)"),
            "{name}: {out}"
        );
        assert!(
            out.contains("customresourcedefinition.apiextensions.k8s.io/edgedistributions.urlguard.io created (server dry run)"),
            "{name}: {out}"
        );
    }
    // A dry run writes nothing.
    assert!(!cluster.exists(&["deployment", "urlguard", "-n", NAMESPACE]));
    assert!(!cluster.exists(&["crd", CRDS[0]]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_install_creates_the_objects_and_uninstall_leaves_the_crds() {
    let cluster = Cluster::start("install").await;
    let installed = cluster.ok(
        "helm",
        &[
            "install",
            "urlguard",
            CHART,
            "-n",
            NAMESPACE,
            "--create-namespace",
        ],
    );
    assert!(installed.contains("STATUS: deployed"), "{installed}");
    assert!(
        installed.contains("lease urlguard-system/urlguard-controller"),
        "NOTES.txt: {installed}"
    );
    for object in INSTALLED {
        assert!(cluster.exists(object), "{object:?} was not created");
    }
    for crd in CRDS {
        assert!(cluster.exists(&["crd", crd]), "{crd} was not created");
    }
    // The controller's kinds are served: the CRDs are usable at once.
    let books = support::repo_root().join("examples/books.yaml");
    let applied = cluster.ok("kubectl", &["apply", "-f", &books.to_string_lossy()]);
    assert!(
        applied.contains("edgedistribution.urlguard.io/books created"),
        "{applied}"
    );
    let cluster_role: Value = serde_json::from_str(
        &cluster.ok("kubectl", &["get", "clusterrole", "urlguard", "-o", "json"]),
    )
    .expect("JSON");
    assert_eq!(cluster_role["rules"], controller_rules());
    let listed = cluster.ok("helm", &["list", "-n", NAMESPACE]);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("urlguard") && l.contains("deployed")),
        "{listed}"
    );

    let uninstalled = cluster.ok("helm", &["uninstall", "urlguard", "-n", NAMESPACE]);
    assert!(uninstalled.contains("uninstalled"), "{uninstalled}");
    for object in INSTALLED {
        assert!(!cluster.exists(object), "{object:?} is still there");
    }
    // Helm never deletes what crds/ installed: custom resources survive,
    // and the live CRDs carry the annotations that keep Argo CD and Helm
    // from deleting them.
    for crd in CRDS {
        assert!(cluster.exists(&["crd", crd]), "{crd} was deleted");
        let live: Value =
            serde_json::from_str(&cluster.ok("kubectl", &["get", "crd", crd, "-o", "json"]))
                .expect("JSON");
        let annotations = &live["metadata"]["annotations"];
        assert_eq!(
            annotations["argocd.argoproj.io/sync-options"], "Prune=false,Delete=false",
            "{crd}: {annotations}"
        );
        assert_eq!(
            annotations["helm.sh/resource-policy"], "keep",
            "{crd}: {annotations}"
        );
    }
    assert!(cluster.exists(&["edgedistribution", "books", "-n", "books"]));
    assert!(
        !cluster
            .ok("helm", &["list", "-n", NAMESPACE])
            .contains("urlguard")
    );
}
