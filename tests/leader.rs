//! The leader stops writing the moment it loses the lease: a leader in the
//! middle of a slow reconcile (AWS holds an answer back) sees another
//! identity take the Lease over through the API server; from that instant
//! the emulator's wire log shows no AWS write of it, and the process exits
//! with an error instead of finishing its reconcile beside the new leader.

mod support;

use std::time::{Duration, Instant};

use aws_emulator::{FaultKind, FaultRule};
use support::aws::TestBedOptions;
use support::books::books_bed;
use support::controller::Controller;
use support::kube::Cluster;

/// Whether an operation changes AWS state (what the product's ledger
/// counts as a write: everything but `Get*`, `List*`, `Describe*`).
fn is_write(call: &str) -> bool {
    let operation = call
        .split_once(':')
        .map_or(call, |(_, operation)| operation);
    !["Get", "List", "Describe"]
        .iter()
        .any(|prefix| operation.starts_with(prefix))
}

// kubectl blocks a worker while the kube emulator serves on the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_leader_losing_its_lease_mid_reconcile_writes_nothing_more_and_exits() {
    let (bed, _) = books_bed(TestBedOptions::default()).await;
    let cluster = Cluster::start("leader-loss").await;
    cluster.ok("kubectl", &["apply", "-f", "crds/"]);
    let mut leader = Controller::start(&bed, &cluster, "urlguard-a");
    leader.wait_until(Duration::from_secs(30), "no leader", || leader.is_leader());

    // The signer role's creation answers late: the leader's reconcile is
    // in the middle of its writes when the lease goes.
    bed.set_faults(&[FaultRule::next(
        "iam",
        "CreateRole",
        FaultKind::SlowAnswer,
        1,
    )]);
    cluster.ok("kubectl", &["apply", "-f", "examples/books.yaml"]);
    leader.wait_until(
        Duration::from_secs(60),
        "the leader did not reach CreateRole",
        || {
            bed.log()
                .iter()
                .any(|r| r.fault.as_deref() == Some("slow_answer"))
        },
    );
    let writes_before = bed.log().iter().filter(|r| is_write(&r.call)).count();
    assert!(writes_before > 1, "the reconcile wrote before CreateRole");

    // Another identity takes the Lease over (as a replica would after an
    // expiry this one did not notice).
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let patch = serde_json::json!({"spec": {
        "holderIdentity": "urlguard-b",
        "renewTime": now,
        "acquireTime": now,
        "leaseDurationSeconds": 30,
    }})
    .to_string();
    cluster.ok(
        "kubectl",
        &[
            "patch",
            "lease",
            "urlguard-controller",
            "-n",
            "default",
            "--type",
            "merge",
            "-p",
            &patch,
        ],
    );
    let last_seen = bed.log().iter().map(|r| r.seq).max().unwrap_or(0);

    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = leader.exit_status() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the leader did not exit after losing the lease:\n{}",
            leader.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        !status.success(),
        "losing the lease is an error exit: {status}"
    );

    let after: Vec<String> = bed
        .log()
        .into_iter()
        .filter(|r| r.seq > last_seen && is_write(&r.call))
        .map(|r| r.call)
        .collect();
    let log = leader.log();
    assert!(
        after.is_empty(),
        "AWS writes after the lease was lost: {after:?}\n{log}"
    );
    // The slow answer came back to a leader that no longer led: its next
    // write was refused, not sent, and nothing went to the API server.
    assert!(log.contains("write gate closed"), "{log}");
    assert!(log.contains("aws write refused"), "{log}");
    assert!(log.contains("lost the leader lease"), "{log}");
    let holder = cluster.ok(
        "kubectl",
        &[
            "get",
            "lease",
            "urlguard-controller",
            "-n",
            "default",
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ],
    );
    assert_eq!(
        holder,
        "urlguard-b",
        "the old leader wrote the Lease back:\n{}",
        leader.log()
    );
}
