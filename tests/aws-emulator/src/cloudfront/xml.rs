//! XML helpers for the CloudFront emulation: escaping, reading children of a
//! `roxmltree` node, the verbatim text of an element as the client sent it,
//! and CloudFront's errors (`<ErrorResponse>` with the HTTP status the API
//! reference gives each code).

use http::StatusCode;
use roxmltree::Node;

/// Escapes text for an XML element or attribute value.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A CloudFront error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CfError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl CfError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> CfError {
        CfError {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> CfError {
        CfError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> CfError {
        CfError::bad_request("InvalidArgument", message)
    }

    pub(crate) fn malformed(message: impl Into<String>) -> CfError {
        CfError::bad_request("MalformedInput", message)
    }
}

/// The first child element called `name`.
pub(crate) fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// All child elements called `name`.
pub(crate) fn children<'a, 'input>(
    node: Node<'a, 'input>,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'input>> + 'a {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// The text of child `name` (`Some("")` for an empty element).
pub(crate) fn child_text<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    child(node, name).map(|c| c.text().unwrap_or(""))
}

/// The items of a CloudFront list (`<Container><Quantity>N</Quantity>
/// <Items><Item/>...</Items></Container>`), checking that `Quantity` matches
/// the items (`InconsistentQuantities` otherwise). A missing container is an
/// empty list.
pub(crate) fn list_items<'a, 'input>(
    parent: Node<'a, 'input>,
    container: &str,
    item: &'a str,
) -> Result<Vec<Node<'a, 'input>>, CfError> {
    let Some(list) = child(parent, container) else {
        return Ok(Vec::new());
    };
    let quantity: usize = child_text(list, "Quantity")
        .ok_or_else(|| CfError::malformed(format!("{container} needs a Quantity")))?
        .trim()
        .parse()
        .map_err(|_| CfError::malformed(format!("{container}/Quantity is not a number")))?;
    let items: Vec<Node> = child(list, "Items")
        .map(|i| children(i, item).collect())
        .unwrap_or_default();
    if items.len() != quantity {
        return Err(CfError::bad_request(
            "InconsistentQuantities",
            format!(
                "The value of Quantity and the size of Items don't match. ({container}: Quantity {quantity}, {} items)",
                items.len()
            ),
        ));
    }
    Ok(items)
}

/// The element exactly as it appears in the document.
pub(crate) fn outer_text<'input>(text: &'input str, node: Node<'_, 'input>) -> &'input str {
    &text[node.range()]
}

/// What is between the element's start and end tags, exactly as sent
/// (empty for `<Element/>`).
pub(crate) fn inner_text<'input>(text: &'input str, node: Node<'_, 'input>) -> &'input str {
    let element = outer_text(text, node);
    let mut quote: Option<char> = None;
    let mut start_end = None;
    for (i, c) in element.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => {
                start_end = Some(i);
                break;
            }
            _ => {}
        }
    }
    let Some(start_end) = start_end else {
        return "";
    };
    if element[..start_end].ends_with('/') {
        return "";
    }
    match element.rfind("</") {
        Some(end_start) if end_start > start_end => &element[start_end + 1..end_start],
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_text_is_verbatim() {
        let text = r#"<A xmlns="urn:x" b='>'><B>1 &amp; 2</B>
  <!-- kept --><C/></A>"#;
        let doc = roxmltree::Document::parse(text).expect("xml");
        let root = doc.root_element();
        assert_eq!(
            inner_text(text, root),
            "<B>1 &amp; 2</B>\n  <!-- kept --><C/>"
        );
        let c = child(root, "C").expect("C");
        assert_eq!(inner_text(text, c), "");
        assert_eq!(child_text(root, "B"), Some("1 & 2"));
    }

    #[test]
    fn quantities_must_match_the_items() {
        let text = "<R><L><Quantity>2</Quantity><Items><I/></Items></L></R>";
        let doc = roxmltree::Document::parse(text).expect("xml");
        let err = list_items(doc.root_element(), "L", "I").expect_err("inconsistent");
        assert_eq!(err.code, "InconsistentQuantities");
        assert!(list_items(doc.root_element(), "Missing", "I").is_ok_and(|v| v.is_empty()));
    }

    #[test]
    fn escaping_covers_markup() {
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
    }
}
