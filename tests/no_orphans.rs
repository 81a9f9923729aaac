//! No orphans on change (issue 16): what an old value made does not stay
//! behind when a spec changes.
//!
//! - `spec.function` is immutable in the cluster: the API server (the kube
//!   emulator, evaluating the CRD's transition rule) refuses a change with
//!   a message naming the field.

mod support;

use support::kube::Cluster;

const GET_BOOKS: &str = "apiVersion: urlguard.io/v1alpha1\nkind: ProtectedFunctionUrl\nmetadata: {name: get-books, namespace: books}\nspec:\n  function: {name: books-get-books, region: eu-west-1}\n  distributionRef: {name: books}\n  pathPattern: /getBooks\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_server_refuses_a_changed_function_naming_the_field() {
    let cluster = Cluster::start("no-orphans-function").await;
    cluster.ok("kubectl", &["apply", "-f", "crds/"]);
    cluster.ok("kubectl", &["create", "namespace", "books"]);
    let path = cluster.dir.join("get-books.yaml");
    std::fs::write(&path, GET_BOOKS).expect("manifest");
    cluster.ok("kubectl", &["apply", "-f", &path.to_string_lossy()]);

    for (what, changed) in [
        (
            "name",
            GET_BOOKS.replace("books-get-books", "books-get-book"),
        ),
        ("region", GET_BOOKS.replace("eu-west-1", "us-west-2")),
        (
            "alias",
            GET_BOOKS.replace("region: eu-west-1}", "region: eu-west-1, qualifier: live}"),
        ),
    ] {
        std::fs::write(&path, &changed).expect("manifest");
        let refused = cluster.run("kubectl", &["apply", "-f", &path.to_string_lossy()]);
        assert!(!refused.ok, "a changed function {what} was accepted");
        assert!(
            refused.stderr.contains("spec.function is immutable")
                && refused.stderr.contains("create a new ProtectedFunctionUrl"),
            "the refusal of a changed {what} does not say what to do:\n{}",
            refused.stderr
        );
    }
    let stored = cluster.ok(
        "kubectl",
        &[
            "get",
            "pfu",
            "get-books",
            "-n",
            "books",
            "-o",
            "jsonpath={.spec.function}",
        ],
    );
    assert!(
        stored.contains("books-get-books")
            && stored.contains("eu-west-1")
            && !stored.contains("live"),
        "the stored function changed: {stored}"
    );
    // Anything else may still change.
    std::fs::write(&path, GET_BOOKS.replace("/getBooks", "/books")).expect("manifest");
    cluster.ok("kubectl", &["apply", "-f", &path.to_string_lossy()]);
}
