//! The application the tests deploy, examples/books.yaml: its five Lambda
//! functions (created in eu-west-1 as its own deployment would) and its
//! resources as urlguard reads them.

use aws_config::SdkConfig;
use urlguard::api::{EdgeDistribution, ProtectedFunctionUrl};
use urlguard::manifest::{self, Resource};

use super::aws::{TestBed, TestBedOptions, create_functions_opted_in};

/// The application's functions (examples/books.yaml), in eu-west-1.
pub const BOOK_FUNCTIONS: [&str; 5] = [
    "books-get-books",
    "books-get-book",
    "books-create-book",
    "books-update-book",
    "books-delete-book",
];

/// A test bed with `options` where the application's functions exist, and
/// an SDK config for it.
pub async fn books_bed(options: TestBedOptions) -> (TestBed, SdkConfig) {
    let bed = TestBed::start_with(options);
    let config = bed.sdk_config().await;
    // Their owner opted in for instance `urlguard`, namespace `books`.
    create_functions_opted_in(
        &config,
        "eu-west-1",
        &BOOK_FUNCTIONS,
        Some("urlguard/books"),
    )
    .await;
    (bed, config)
}

/// The text of examples/books.yaml.
pub fn books_yaml() -> String {
    std::fs::read_to_string(super::repo_root().join("examples/books.yaml")).expect("books.yaml")
}

/// examples/books.yaml's distribution and URLs.
pub fn books() -> (Vec<EdgeDistribution>, Vec<ProtectedFunctionUrl>) {
    resources("books.yaml", &books_yaml())
}

/// The distributions and URLs of a manifest (`file` names it in errors);
/// every document must be accepted.
pub fn resources(file: &str, text: &str) -> (Vec<EdgeDistribution>, Vec<ProtectedFunctionUrl>) {
    let loaded = manifest::parse(file, text).expect("YAML");
    assert!(loaded.rejected.is_empty(), "{:?}", loaded.rejected);
    let mut distributions = Vec::new();
    let mut urls = Vec::new();
    for resource in loaded.resources {
        match resource {
            Resource::EdgeDistribution(d) => distributions.push(*d),
            Resource::ProtectedFunctionUrl(u) => urls.push(*u),
        }
    }
    (distributions, urls)
}

/// The owner of `name` in the application's namespace, instance `urlguard`:
/// what the AWS names of the tests' objects derive from.
pub fn books_owner(name: &str) -> urlguard::model::names::Owner {
    urlguard::model::names::Owner {
        instance: "urlguard".into(),
        namespace: "books".into(),
        name: name.into(),
    }
}

/// The signer function (and role) name of the `books` distribution.
pub fn books_signer() -> String {
    books_owner("books").signer_function_name()
}
