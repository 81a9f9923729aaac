//! What IAM needs from one request, read from the wire as each protocol
//! carries it: the resource names (REST paths and query parameters for
//! CloudFront and Lambda, form fields for IAM and STS, the JSON body for
//! SSM and Lambda), the tags it sets (CloudFront's `Tags` XML, IAM's
//! `Tags.member.N.Key/Value`, Lambda's `Tags` object, SSM's `Tags` list),
//! the fields condition keys come from, and for a distribution config its
//! Lambda@Edge associations and log bucket. Reading is lenient: what cannot
//! be read is left out, and the service answers the malformed request
//! itself.

use http::request::Parts;
use roxmltree::Document;
use serde_json::Value;

use crate::cloudfront::config::parse_distribution_request;
use crate::cloudfront::{CloudFront, edge_versions, xml};
use crate::lambda::FunctionRef;
use crate::route::{Call, query_param, segments};

/// The facts of one request.
#[derive(Debug, Default, Clone)]
pub(crate) struct Facts {
    pub region: String,
    /// `(key, value)`; for an untag request the keys with empty values.
    pub request_tags: Vec<(String, String)>,
    pub distribution_id: Option<String>,
    pub oac_id: Option<String>,
    pub tagged_arn: Option<String>,
    /// The function named, as `(unqualified ARN, qualifier)`.
    pub function: Option<(String, Option<String>)>,
    pub passed_role: Option<String>,
    pub role_name: Option<String>,
    /// `Path` of a `CreateRole`.
    pub role_path: Option<String>,
    pub permissions_boundary: Option<String>,
    /// SSM parameters as `(name, ARN)`.
    pub parameters: Vec<(String, String)>,
    pub edge_versions: Vec<String>,
    pub removed_edge_versions: Vec<String>,
    pub log_bucket: Option<String>,
    pub auth_type: Option<String>,
    pub principal: Option<String>,
    pub overwrite: Option<bool>,
    pub assumed_role: Option<String>,
}

impl Facts {
    pub(crate) fn read(call: &Call, parts: &Parts, body: &[u8], cloudfront: &CloudFront) -> Facts {
        let mut facts = Facts {
            region: call.region.clone(),
            ..Facts::default()
        };
        let query = parts.uri.query().unwrap_or("");
        let path = segments(parts.uri.path());
        match call.service.as_str() {
            "cloudfront" => facts.read_cloudfront(&call.operation, &path, query, body, cloudfront),
            "lambda" => facts.read_lambda(&call.operation, &path, query, body),
            "iam" | "sts" => facts.read_form(query, body),
            "ssm" => facts.read_ssm(body),
            _ => {}
        }
        facts
    }

    fn read_cloudfront(
        &mut self,
        operation: &str,
        path: &[String],
        query: &str,
        body: &[u8],
        cloudfront: &CloudFront,
    ) {
        match path.get(1).map(String::as_str) {
            Some("distribution") => self.distribution_id = path.get(2).cloned(),
            Some("origin-access-control") => self.oac_id = path.get(2).cloned(),
            _ => {}
        }
        self.tagged_arn = query_param(query, "Resource");
        let stored = self
            .distribution_id
            .as_deref()
            .or_else(|| {
                self.tagged_arn
                    .as_deref()
                    .and_then(|arn| arn.rsplit_once("distribution/").map(|(_, id)| id))
            })
            .and_then(|id| cloudfront.distribution_facts(id));
        let stored_versions = stored.map(|d| d.edge_versions).unwrap_or_default();
        match operation {
            "CreateDistribution" | "CreateDistributionWithTags" | "UpdateDistribution" => {
                let with_tags = operation == "CreateDistributionWithTags";
                if let Ok((config, tags)) = parse_distribution_request(body, with_tags) {
                    self.edge_versions = edge_versions(&config);
                    self.request_tags = tags;
                }
                self.removed_edge_versions = stored_versions
                    .into_iter()
                    .filter(|v| !self.edge_versions.contains(v))
                    .collect();
                self.log_bucket = log_bucket(body);
            }
            "DeleteDistribution" => self.removed_edge_versions = stored_versions,
            "TagResource" | "UntagResource" => self.request_tags = xml_tags(body),
            _ => {}
        }
    }

    fn read_lambda(&mut self, operation: &str, path: &[String], query: &str, body: &[u8]) {
        let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let qualifier = query_param(query, "Qualifier");
        let named = match (path.get(1).map(String::as_str), operation) {
            (Some("functions"), "CreateFunction") => {
                json["FunctionName"].as_str().map(str::to_owned)
            }
            (Some("functions"), _) => path.get(2).cloned(),
            (Some("tags"), _) => {
                self.tagged_arn = path.get(2).cloned();
                path.get(2).cloned()
            }
            _ => None,
        };
        if let Some(function) = named.as_deref().and_then(FunctionRef::parse) {
            let arn = function.unqualified_arn(&self.region);
            self.function = Some((arn, qualifier.or(function.qualifier)));
        }
        if let Some(tags) = json["Tags"].as_object() {
            self.request_tags = tags
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect();
        }
        if operation == "UntagResource" {
            self.request_tags = form_pairs(query)
                .into_iter()
                .filter(|(k, _)| k == "tagKeys")
                .map(|(_, v)| (v, String::new()))
                .collect();
        }
        self.passed_role = json["Role"].as_str().map(str::to_owned);
        self.auth_type = json["AuthType"]
            .as_str()
            .or_else(|| json["FunctionUrlAuthType"].as_str())
            .map(str::to_owned);
        self.principal = json["Principal"].as_str().map(str::to_owned);
    }

    fn read_form(&mut self, query: &str, body: &[u8]) {
        let mut fields = form_pairs(query);
        fields.extend(form_pairs(&String::from_utf8_lossy(body)));
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        self.role_name = field("RoleName");
        self.role_path = field("Path");
        self.permissions_boundary = field("PermissionsBoundary");
        self.assumed_role = field("RoleArn");
        let mut n = 1;
        while let Some(key) = field(&format!("Tags.member.{n}.Key")) {
            let value = field(&format!("Tags.member.{n}.Value")).unwrap_or_default();
            self.request_tags.push((key, value));
            n += 1;
        }
        let mut n = 1;
        while let Some(key) = field(&format!("TagKeys.member.{n}")) {
            self.request_tags.push((key, String::new()));
            n += 1;
        }
    }

    fn read_ssm(&mut self, body: &[u8]) {
        let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let mut names: Vec<&str> = Vec::new();
        names.extend(json["Name"].as_str());
        names.extend(
            json["Names"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str),
        );
        if json["ResourceType"]
            .as_str()
            .is_none_or(|t| t == "Parameter")
        {
            names.extend(json["ResourceId"].as_str());
        }
        self.parameters = names
            .into_iter()
            .map(|name| (name.to_owned(), parameter_arn(&self.region, name)))
            .collect();
        self.request_tags = json["Tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| {
                Some((
                    t["Key"].as_str()?.to_owned(),
                    t["Value"].as_str().unwrap_or_default().to_owned(),
                ))
            })
            .collect();
        self.request_tags.extend(
            json["TagKeys"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|k| (k.to_owned(), String::new())),
        );
        self.overwrite = json["Overwrite"].as_bool();
    }

    /// `arn:aws:cloudfront::ACCOUNT:distribution/ID`, or `distribution/*`
    /// for one being created.
    pub(crate) fn distribution_arn(&self) -> String {
        format!(
            "arn:aws:cloudfront::{}:distribution/{}",
            crate::accounts::current(),
            self.distribution_id.as_deref().unwrap_or("*")
        )
    }

    pub(crate) fn oac_arn(&self) -> String {
        format!(
            "arn:aws:cloudfront::{}:origin-access-control/{}",
            crate::accounts::current(),
            self.oac_id.as_deref().unwrap_or("*")
        )
    }
}

/// The SSM ARN of a parameter name (`/a/b` and `a` alike) or ARN.
fn parameter_arn(region: &str, name: &str) -> String {
    if name.starts_with("arn:") {
        return name.to_owned();
    }
    format!(
        "arn:aws:ssm:{region}:{}:parameter/{}",
        crate::accounts::current(),
        name.trim_start_matches('/')
    )
}

fn form_pairs(text: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// CloudFront `<Tags><Items><Tag>` (TagResource) or `<TagKeys><Items><Key>`
/// (UntagResource).
fn xml_tags(body: &[u8]) -> Vec<(String, String)> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Vec::new();
    };
    let Ok(doc) = Document::parse(text) else {
        return Vec::new();
    };
    let root = doc.root_element();
    if root.tag_name().name() == "TagKeys" {
        return root
            .descendants()
            .filter(|n| n.has_tag_name("Key") || n.tag_name().name() == "Key")
            .filter_map(|n| n.text())
            .map(|k| (k.to_owned(), String::new()))
            .collect();
    }
    crate::cloudfront::config::parse_tags(root).unwrap_or_default()
}

/// The bucket of an enabled `Logging` (`name.s3.amazonaws.com`).
fn log_bucket(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let doc = Document::parse(text).ok()?;
    let logging = doc
        .descendants()
        .find(|n| n.tag_name().name() == "Logging")?;
    if xml::child_text(logging, "Enabled")?.trim() != "true" {
        return None;
    }
    let bucket = xml::child_text(logging, "Bucket")?.trim();
    let name = bucket.split_once(".s3.").map_or(bucket, |(name, _)| name);
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_bucket_is_the_name_before_the_s3_domain() {
        let body = br#"<DistributionConfig><Logging><Enabled>true</Enabled><IncludeCookies>false</IncludeCookies><Bucket>logs-bucket.s3.amazonaws.com</Bucket><Prefix>p/</Prefix></Logging></DistributionConfig>"#;
        assert_eq!(log_bucket(body).as_deref(), Some("logs-bucket"));
        let off = br#"<DistributionConfig><Logging><Enabled>false</Enabled><Bucket>x.s3.amazonaws.com</Bucket></Logging></DistributionConfig>"#;
        assert_eq!(log_bucket(off), None);
    }

    #[test]
    fn parameter_arns_drop_the_leading_slash() {
        assert_eq!(
            parameter_arn("eu-west-1", "/books/GetBooksUrl"),
            "arn:aws:ssm:eu-west-1:123456789012:parameter/books/GetBooksUrl"
        );
    }

    #[test]
    fn cloudfront_tag_bodies_give_tags_or_keys() {
        let tag = br#"<Tags xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Items><Tag><Key>a</Key><Value>b</Value></Tag></Items></Tags>"#;
        assert_eq!(xml_tags(tag), [("a".to_owned(), "b".to_owned())]);
        let untag = br#"<TagKeys xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Items><Key>a</Key></Items></TagKeys>"#;
        assert_eq!(xml_tags(untag), [("a".to_owned(), String::new())]);
    }
}
