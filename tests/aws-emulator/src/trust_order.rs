//! IAM answers policies in an order of its own. A role's trust policy
//! (`AssumeRolePolicyDocument` in `GetRole`, `CreateRole` and `ListRoles`)
//! and an inline policy (`PolicyDocument` in `GetRolePolicy`) are JSON
//! documents IAM stores in its own form: the IAM User Guide's policy
//! grammar ("Grammar of the IAM JSON policy language") makes every list —
//! `Statement`, `Action`, `Resource`, and the principal lists under
//! `Principal` (`Service`, `AWS`, `Federated`) — an unordered set, and IAM
//! does not promise to return one in the order it was written (principals,
//! in particular, come back in varying order). moto returns what it was
//! sent, so a client comparing documents exactly would never see the
//! difference; with `reorder_policy_lists` on (the default) the emulator
//! reverses every such list of two or more items in those answers, a
//! deterministic order other than the written one. Off, moto's answer is
//! relayed as it came.
//!
//! The documents stay in the encoding moto used (IAM's is URL-encoded
//! JSON inside the XML element); anything not JSON is left alone.

use bytes::Bytes;
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::Value;

use crate::reply::Reply;

/// The IAM operations whose answers carry policy documents, and the
/// elements that hold them.
const DOCUMENTS: &[(&str, &str)] = &[
    ("GetRole", "AssumeRolePolicyDocument"),
    ("CreateRole", "AssumeRolePolicyDocument"),
    ("ListRoles", "AssumeRolePolicyDocument"),
    ("UpdateRole", "AssumeRolePolicyDocument"),
    ("GetRolePolicy", "PolicyDocument"),
];

/// Keys under a statement whose values are lists IAM treats as sets.
const SET_KEYS: &[&str] = &["Action", "NotAction", "Resource", "NotResource"];

/// `reply` (moto's answer to IAM `operation`) with its policy documents'
/// lists reordered as IAM may return them.
pub(crate) fn reordered(operation: &str, reply: Reply) -> Reply {
    if !reply.is_success() {
        return reply;
    }
    let Some((_, element)) = DOCUMENTS.iter().find(|(op, _)| *op == operation) else {
        return reply;
    };
    let Ok(text) = std::str::from_utf8(&reply.body) else {
        return reply;
    };
    let body = reorder_elements(text, element);
    Reply {
        body: Bytes::from(body),
        ..reply
    }
}

/// Every `<element>DOCUMENT</element>` in `text` with its document
/// reordered.
fn reorder_elements(text: &str, element: &str) -> String {
    let open = format!("<{element}>");
    let close = format!("</{element}>");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(&open) {
        let content_start = start + open.len();
        let Some(length) = rest[content_start..].find(&close) else {
            break;
        };
        out.push_str(&rest[..content_start]);
        out.push_str(&reorder_document(
            &rest[content_start..content_start + length],
        ));
        rest = &rest[content_start + length..];
    }
    out.push_str(rest);
    out
}

/// One document as it sits in the XML: URL-encoded or plain JSON, escaped
/// for XML.
fn reorder_document(escaped: &str) -> String {
    let raw = xml_unescape(escaped);
    let url_encoded = !raw.trim_start().starts_with('{');
    let json = if url_encoded {
        match percent_decode_str(&raw).decode_utf8() {
            Ok(decoded) => decoded.into_owned(),
            Err(_) => return escaped.to_owned(),
        }
    } else {
        raw
    };
    let Ok(mut document) = serde_json::from_str::<Value>(&json) else {
        return escaped.to_owned();
    };
    reorder_policy(&mut document);
    let json = document.to_string();
    if url_encoded {
        utf8_percent_encode(&json, NON_ALPHANUMERIC).to_string()
    } else {
        xml_escape(&json)
    }
}

/// Reverses the policy's statements, each statement's action and resource
/// lists, and its principal lists.
pub(crate) fn reorder_policy(document: &mut Value) {
    let Some(statements) = document.get_mut("Statement") else {
        return;
    };
    if let Value::Array(list) = statements {
        list.reverse();
        list.iter_mut().for_each(reorder_statement);
    } else {
        reorder_statement(statements);
    }
}

fn reorder_statement(statement: &mut Value) {
    for key in SET_KEYS {
        if let Some(Value::Array(list)) = statement.get_mut(*key) {
            list.reverse();
        }
    }
    for key in ["Principal", "NotPrincipal"] {
        if let Some(Value::Object(principals)) = statement.get_mut(key) {
            for list in principals.values_mut() {
                if let Value::Array(list) = list {
                    list.reverse();
                }
            }
        }
    }
}

fn xml_unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;
    use serde_json::json;

    fn trust() -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]},
            "Action": "sts:AssumeRole"}]})
    }

    #[test]
    fn url_encoded_trust_policies_come_back_with_principals_reversed() {
        let encoded = utf8_percent_encode(&trust().to_string(), NON_ALPHANUMERIC).to_string();
        let body = format!(
            "<GetRoleResponse><GetRoleResult><Role><RoleName>r</RoleName><AssumeRolePolicyDocument>{encoded}</AssumeRolePolicyDocument></Role></GetRoleResult></GetRoleResponse>"
        );
        let reply = reordered("GetRole", Reply::xml(StatusCode::OK, body));
        let text = std::str::from_utf8(&reply.body).expect("utf-8");
        let start = text.find("<AssumeRolePolicyDocument>").expect("element") + 26;
        let end = text.find("</AssumeRolePolicyDocument>").expect("end");
        let decoded = percent_decode_str(&text[start..end])
            .decode_utf8()
            .expect("utf-8");
        let document: Value = serde_json::from_str(&decoded).expect("json");
        assert_eq!(
            document["Statement"][0]["Principal"]["Service"],
            json!(["edgelambda.amazonaws.com", "lambda.amazonaws.com"])
        );
        assert!(text.starts_with("<GetRoleResponse><GetRoleResult><Role><RoleName>r</RoleName>"));
    }

    #[test]
    fn plain_json_stays_plain_and_statements_and_resources_reverse() {
        let policy = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "a", "Effect": "Allow", "Action": ["x:A", "x:B"], "Resource": ["r1", "r2"]},
            {"Sid": "b", "Effect": "Allow", "Action": "x:C", "Resource": "r3"}]});
        let body = format!(
            "<R><PolicyDocument>{}</PolicyDocument></R>",
            xml_escape(&policy.to_string())
        );
        let reply = reordered("GetRolePolicy", Reply::xml(StatusCode::OK, body));
        let text = std::str::from_utf8(&reply.body).expect("utf-8");
        let inner = &text["<R><PolicyDocument>".len()..text.len() - "</PolicyDocument></R>".len()];
        let document: Value = serde_json::from_str(&xml_unescape(inner)).expect("json");
        assert_eq!(document["Statement"][0]["Sid"], "b");
        assert_eq!(document["Statement"][1]["Action"], json!(["x:B", "x:A"]));
        assert_eq!(document["Statement"][1]["Resource"], json!(["r2", "r1"]));
    }

    #[test]
    fn other_answers_and_errors_pass_unchanged() {
        let body = "<AssumeRolePolicyDocument>%7B%7D</AssumeRolePolicyDocument>";
        let reply = reordered("ListRolePolicies", Reply::xml(StatusCode::OK, body.into()));
        assert_eq!(&reply.body[..], body.as_bytes());
        let reply = reordered("GetRole", Reply::xml(StatusCode::NOT_FOUND, body.into()));
        assert_eq!(&reply.body[..], body.as_bytes());
    }
}
