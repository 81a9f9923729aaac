//! What a distribution's config says about traffic, and which cache
//! behavior a viewer request falls under, as CloudFront decides it
//! (CloudFront developer guide, "Cache behavior settings: Path pattern",
//! https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern):
//! behaviors are tried in the order of the config's list, the first whose
//! path pattern matches wins and the default behavior takes the rest;
//! patterns are case-sensitive, `*` matches any run of characters
//! (including none and `/`), `?` exactly one, and a pattern without a
//! leading `/` is read as if it had one. Only the path is matched, never
//! the query string.

use roxmltree::{Document, Node};

use crate::cloudfront::xml::{child, child_text, children};

/// One origin of a distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    pub id: String,
    pub domain_name: String,
    pub origin_path: String,
    /// Set for a custom origin (a function URL is one), unset for S3.
    pub custom: bool,
    pub oac_id: Option<String>,
    pub read_timeout: u64,
    pub keepalive_timeout: u64,
}

/// One Lambda@Edge association of a behavior.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EdgeFunction {
    /// The published version's ARN.
    pub arn: String,
    pub event_type: String,
    pub include_body: bool,
}

/// One cache behavior (the default one has no path pattern).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Behavior {
    pub path_pattern: Option<String>,
    pub target_origin_id: String,
    pub allowed_methods: Vec<String>,
    pub origin_request_policy_id: Option<String>,
    pub edge_functions: Vec<EdgeFunction>,
}

/// A distribution's traffic-relevant config.
#[derive(Debug, Clone, Default)]
pub(crate) struct Routing {
    pub aliases: Vec<String>,
    pub origins: Vec<Origin>,
    /// In the config's order.
    pub behaviors: Vec<Behavior>,
    pub default_behavior: Option<Behavior>,
}

fn items<'a, 'input>(
    parent: Node<'a, 'input>,
    container: &str,
    item: &'a str,
) -> Vec<Node<'a, 'input>> {
    child(parent, container)
        .and_then(|list| child(list, "Items"))
        .map(|list| children(list, item).collect())
        .unwrap_or_default()
}

fn text(node: Node, name: &str) -> String {
    child_text(node, name).unwrap_or_default().trim().to_owned()
}

fn behavior(node: Node) -> Behavior {
    Behavior {
        path_pattern: child_text(node, "PathPattern").map(|p| p.trim().to_owned()),
        target_origin_id: text(node, "TargetOriginId"),
        allowed_methods: items(node, "AllowedMethods", "Method")
            .iter()
            .filter_map(|m| m.text())
            .map(|m| m.trim().to_owned())
            .collect(),
        origin_request_policy_id: child_text(node, "OriginRequestPolicyId")
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty()),
        edge_functions: items(
            node,
            "LambdaFunctionAssociations",
            "LambdaFunctionAssociation",
        )
        .into_iter()
        .map(|a| EdgeFunction {
            arn: text(a, "LambdaFunctionARN"),
            event_type: text(a, "EventType"),
            include_body: text(a, "IncludeBody") == "true",
        })
        .collect(),
    }
}

impl Routing {
    /// Reads the inside of a stored `<DistributionConfig>`.
    pub(crate) fn parse(inner: &str) -> Option<Routing> {
        let text_doc = format!("<DistributionConfig>{inner}</DistributionConfig>");
        let doc = Document::parse(&text_doc).ok()?;
        let root = doc.root_element();
        let origins = items(root, "Origins", "Origin")
            .into_iter()
            .map(|o| {
                let custom = child(o, "CustomOriginConfig");
                let number = |name: &str, default: u64| {
                    custom
                        .and_then(|c| child_text(c, name))
                        .and_then(|t| t.trim().parse().ok())
                        .unwrap_or(default)
                };
                Origin {
                    id: text(o, "Id"),
                    domain_name: text(o, "DomainName"),
                    origin_path: text(o, "OriginPath"),
                    custom: custom.is_some(),
                    oac_id: child_text(o, "OriginAccessControlId")
                        .map(|id| id.trim().to_owned())
                        .filter(|id| !id.is_empty()),
                    read_timeout: number("OriginReadTimeout", 30),
                    keepalive_timeout: number("OriginKeepaliveTimeout", 5),
                }
            })
            .collect();
        Some(Routing {
            aliases: items(root, "Aliases", "CNAME")
                .iter()
                .filter_map(|c| c.text())
                .map(|c| c.trim().to_ascii_lowercase())
                .collect(),
            origins,
            behaviors: items(root, "CacheBehaviors", "CacheBehavior")
                .into_iter()
                .map(behavior)
                .collect(),
            default_behavior: child(root, "DefaultCacheBehavior").map(behavior),
        })
    }

    /// The behavior for a request path: the first matching one, else the
    /// default.
    pub(crate) fn behavior_for(&self, path: &str) -> Option<&Behavior> {
        self.behaviors
            .iter()
            .find(|b| {
                b.path_pattern
                    .as_deref()
                    .is_some_and(|p| path_matches(p, path))
            })
            .or(self.default_behavior.as_ref())
    }

    pub(crate) fn origin(&self, id: &str) -> Option<&Origin> {
        self.origins.iter().find(|o| o.id == id)
    }
}

/// Whether `path` matches the CloudFront path pattern `pattern`.
pub(crate) fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern = if pattern.starts_with('/') {
        pattern.to_owned()
    } else {
        format!("/{pattern}")
    };
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = path.chars().collect();
    // Classic wildcard matching with backtracking to the last `*`.
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < s.len() {
        if i < p.len() && (p[i] == '?' || p[i] == s[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((star_i, star_j)) = star {
            i = star_i + 1;
            j = star_j + 1;
            star = Some((star_i, star_j + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_patterns_match_as_cloudfront_documents() {
        assert!(path_matches("/getBook/*", "/getBook/42"));
        assert!(path_matches("/getBook/*", "/getBook/"));
        assert!(
            path_matches("/getBook/*", "/getBook/a/b/c"),
            "* crosses slashes"
        );
        assert!(
            !path_matches("/getBook/*", "/getBook"),
            "the slash is literal"
        );
        assert!(!path_matches("/getBook/*", "/getbook/42"), "case-sensitive");
        assert!(path_matches("/getBooks", "/getBooks"));
        assert!(!path_matches("/getBooks", "/getBooks/x"));
        assert!(
            path_matches("getBooks", "/getBooks"),
            "a leading slash is implied"
        );
        assert!(path_matches("/images/*.jp?g", "/images/a/b.jpeg"));
        assert!(
            !path_matches("/images/*.jp?g", "/images/a/b.jpg"),
            "? is exactly one"
        );
        assert!(path_matches("*", "/anything"));
        assert!(path_matches("/a*b*c", "/axxbyyc"));
        assert!(!path_matches("/a*b*c", "/axxbyy"));
    }

    const CONFIG: &str = r#"<CallerReference>r</CallerReference>
<Aliases><Quantity>1</Quantity><Items><CNAME>Books.Example.com</CNAME></Items></Aliases>
<Origins><Quantity>2</Quantity><Items>
 <Origin><Id>s3</Id><DomainName>books.s3.us-east-1.amazonaws.com</DomainName><OriginPath></OriginPath><S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig><OriginAccessControlId>OACS3</OriginAccessControlId></Origin>
 <Origin><Id>url</Id><DomainName>abc.lambda-url.eu-west-1.on.aws</DomainName><OriginPath></OriginPath><CustomOriginConfig><HTTPPort>80</HTTPPort><HTTPSPort>443</HTTPSPort><OriginProtocolPolicy>https-only</OriginProtocolPolicy><OriginReadTimeout>20</OriginReadTimeout></CustomOriginConfig></Origin>
</Items></Origins>
<DefaultCacheBehavior><TargetOriginId>s3</TargetOriginId><AllowedMethods><Quantity>2</Quantity><Items><Method>GET</Method><Method>HEAD</Method></Items><CachedMethods><Quantity>2</Quantity><Items><Method>GET</Method><Method>HEAD</Method></Items></CachedMethods></AllowedMethods></DefaultCacheBehavior>
<CacheBehaviors><Quantity>2</Quantity><Items>
 <CacheBehavior><PathPattern>/getBook/*</PathPattern><TargetOriginId>url</TargetOriginId><AllowedMethods><Quantity>3</Quantity><Items><Method>GET</Method><Method>HEAD</Method><Method>OPTIONS</Method></Items><CachedMethods><Quantity>2</Quantity><Items><Method>GET</Method><Method>HEAD</Method></Items></CachedMethods></AllowedMethods>
  <LambdaFunctionAssociations><Quantity>1</Quantity><Items><LambdaFunctionAssociation><LambdaFunctionARN>arn:aws:lambda:us-east-1:123456789012:function:s:3</LambdaFunctionARN><EventType>origin-request</EventType><IncludeBody>true</IncludeBody></LambdaFunctionAssociation></Items></LambdaFunctionAssociations>
  <OriginRequestPolicyId>b689b0a8-53d0-40ab-baf2-68738e2966ac</OriginRequestPolicyId></CacheBehavior>
 <CacheBehavior><PathPattern>/get*</PathPattern><TargetOriginId>s3</TargetOriginId><AllowedMethods><Quantity>7</Quantity><Items><Method>GET</Method><Method>HEAD</Method><Method>OPTIONS</Method><Method>PUT</Method><Method>POST</Method><Method>PATCH</Method><Method>DELETE</Method></Items></AllowedMethods></CacheBehavior>
</Items></CacheBehaviors>"#;

    #[test]
    fn the_first_matching_behavior_in_list_order_wins_then_the_default() {
        let routing = Routing::parse(CONFIG).expect("config");
        assert_eq!(routing.aliases, ["books.example.com"]);
        let book = routing.behavior_for("/getBook/42").expect("behavior");
        assert_eq!(book.target_origin_id, "url");
        assert_eq!(
            book.allowed_methods,
            ["GET", "HEAD", "OPTIONS"],
            "not the cached methods"
        );
        assert_eq!(book.edge_functions.len(), 1);
        assert!(book.edge_functions[0].include_body);
        assert_eq!(
            routing
                .behavior_for("/getBooks")
                .expect("behavior")
                .path_pattern
                .as_deref(),
            Some("/get*"),
            "the second behavior, since the first does not match"
        );
        let default = routing.behavior_for("/index.html").expect("default");
        assert_eq!(default.path_pattern, None);
        let url = routing.origin("url").expect("origin");
        assert!(url.custom);
        assert_eq!(url.read_timeout, 20);
        assert_eq!(
            routing
                .origin("s3")
                .and_then(|o| o.oac_id.clone())
                .as_deref(),
            Some("OACS3")
        );
    }
}
