//! Kubernetes' protobuf envelope for the few built-in bodies typed clients
//! send that way (`kubectl create namespace`, helm's release Secrets):
//! the bytes `k8s\0`, then a `runtime.Unknown` (`typeMeta`, `raw`) whose
//! `raw` is the object. Decoded by hand — the protobuf wire format is
//! small — into the JSON the rest of the emulator stores, for Namespace,
//! Secret and ConfigMap (ObjectMeta: name, generateName, namespace, uid,
//! resourceVersion, labels, annotations, ownerReferences, finalizers).
//! Other kinds get 415; a protobuf DeleteOptions body is read as empty
//! options. Replies are always JSON, which clients accept.

use base64::Engine;
use serde_json::{Map, Value, json};

/// The envelope's magic prefix.
pub const MAGIC: &[u8] = b"k8s\0";

/// A body that is not a protobuf object the emulator reads.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

fn err(what: &str) -> DecodeError {
    DecodeError(format!("protobuf: {what}"))
}

/// One field of a message.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .data
                .get(self.pos)
                .ok_or_else(|| err("truncated varint"))?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(err("varint too long"))
    }

    fn next(&mut self) -> Result<Option<(u64, Field<'a>)>, DecodeError> {
        if self.pos >= self.data.len() {
            return Ok(None);
        }
        let tag = self.varint()?;
        let field = match tag & 7 {
            0 => Field::Varint(self.varint()?),
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| err("length"))?;
                let end = self
                    .pos
                    .checked_add(len)
                    .filter(|e| *e <= self.data.len())
                    .ok_or_else(|| err("truncated field"))?;
                let bytes = &self.data[self.pos..end];
                self.pos = end;
                Field::Bytes(bytes)
            }
            1 => {
                self.pos += 8;
                Field::Varint(0)
            }
            5 => {
                self.pos += 4;
                Field::Varint(0)
            }
            _ => return Err(err("unsupported wire type")),
        };
        Ok(Some((tag >> 3, field)))
    }
}

fn fields(data: &[u8]) -> Result<Vec<(u64, Field<'_>)>, DecodeError> {
    let mut reader = Reader::new(data);
    let mut out = Vec::new();
    while let Some(field) = reader.next()? {
        out.push(field);
    }
    Ok(out)
}

fn string(bytes: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| err("invalid UTF-8"))
}

/// A `map<string, string|bytes>` entry: (key, value bytes).
fn map_entry(data: &[u8]) -> Result<(String, Vec<u8>), DecodeError> {
    let mut key = String::new();
    let mut value = Vec::new();
    for (number, field) in fields(data)? {
        match (number, field) {
            (1, Field::Bytes(b)) => key = string(b)?,
            (2, Field::Bytes(b)) => value = b.to_vec(),
            _ => {}
        }
    }
    Ok((key, value))
}

fn insert_map_entry(
    target: &mut Map<String, Value>,
    name: &str,
    data: &[u8],
    as_base64: bool,
) -> Result<(), DecodeError> {
    let (key, value) = map_entry(data)?;
    let value = if as_base64 {
        base64::engine::general_purpose::STANDARD.encode(value)
    } else {
        string(&value)?
    };
    let entry = target.entry(name).or_insert_with(|| json!({}));
    if let Some(map) = entry.as_object_mut() {
        map.insert(key, Value::String(value));
    }
    Ok(())
}

fn push_string(target: &mut Map<String, Value>, name: &str, value: String) {
    let entry = target.entry(name).or_insert_with(|| json!([]));
    if let Some(list) = entry.as_array_mut() {
        list.push(Value::String(value));
    }
}

fn owner_reference(data: &[u8]) -> Result<Value, DecodeError> {
    let mut out = Map::new();
    for (number, field) in fields(data)? {
        match (number, field) {
            (1, Field::Bytes(b)) => {
                out.insert("kind".into(), json!(string(b)?));
            }
            (3, Field::Bytes(b)) => {
                out.insert("name".into(), json!(string(b)?));
            }
            (4, Field::Bytes(b)) => {
                out.insert("uid".into(), json!(string(b)?));
            }
            (5, Field::Bytes(b)) => {
                out.insert("apiVersion".into(), json!(string(b)?));
            }
            (6, Field::Varint(v)) => {
                out.insert("controller".into(), json!(v != 0));
            }
            (7, Field::Varint(v)) => {
                out.insert("blockOwnerDeletion".into(), json!(v != 0));
            }
            _ => {}
        }
    }
    Ok(Value::Object(out))
}

fn object_meta(data: &[u8]) -> Result<Value, DecodeError> {
    let mut meta = Map::new();
    for (number, field) in fields(data)? {
        match (number, field) {
            (1 | 2 | 3 | 5 | 6, Field::Bytes(b)) => {
                let name = match number {
                    1 => "name",
                    2 => "generateName",
                    3 => "namespace",
                    5 => "uid",
                    _ => "resourceVersion",
                };
                let value = string(b)?;
                if !value.is_empty() {
                    meta.insert(name.into(), json!(value));
                }
            }
            (11, Field::Bytes(b)) => insert_map_entry(&mut meta, "labels", b, false)?,
            (12, Field::Bytes(b)) => insert_map_entry(&mut meta, "annotations", b, false)?,
            (13, Field::Bytes(b)) => {
                let entry = meta.entry("ownerReferences").or_insert_with(|| json!([]));
                if let Some(list) = entry.as_array_mut() {
                    list.push(owner_reference(b)?);
                }
            }
            (14, Field::Bytes(b)) => push_string(&mut meta, "finalizers", string(b)?),
            _ => {}
        }
    }
    Ok(Value::Object(meta))
}

fn namespace(data: &[u8]) -> Result<Map<String, Value>, DecodeError> {
    let mut out = Map::new();
    for (number, field) in fields(data)? {
        match (number, field) {
            (1, Field::Bytes(b)) => {
                out.insert("metadata".into(), object_meta(b)?);
            }
            (2, Field::Bytes(b)) => {
                let mut spec = Map::new();
                for (n, f) in fields(b)? {
                    if let (1, Field::Bytes(s)) = (n, f) {
                        push_string(&mut spec, "finalizers", string(s)?);
                    }
                }
                out.insert("spec".into(), Value::Object(spec));
            }
            _ => {}
        }
    }
    Ok(out)
}

fn secret_or_configmap(data: &[u8], secret: bool) -> Result<Map<String, Value>, DecodeError> {
    let mut out = Map::new();
    for (number, field) in fields(data)? {
        match (secret, number, field) {
            (_, 1, Field::Bytes(b)) => {
                out.insert("metadata".into(), object_meta(b)?);
            }
            (true, 2, Field::Bytes(b)) => insert_map_entry(&mut out, "data", b, true)?,
            (true, 3, Field::Bytes(b)) => {
                out.insert("type".into(), json!(string(b)?));
            }
            (true, 4, Field::Bytes(b)) => insert_map_entry(&mut out, "stringData", b, false)?,
            (true, 5, Field::Varint(v)) | (false, 4, Field::Varint(v)) => {
                out.insert("immutable".into(), json!(v != 0));
            }
            (false, 2, Field::Bytes(b)) => insert_map_entry(&mut out, "data", b, false)?,
            (false, 3, Field::Bytes(b)) => insert_map_entry(&mut out, "binaryData", b, true)?,
            _ => {}
        }
    }
    Ok(out)
}

/// Decodes a `k8s\0`-prefixed body into JSON; `Ok(None)` for a
/// DeleteOptions (read as empty options).
pub fn decode(body: &[u8]) -> Result<Option<Value>, DecodeError> {
    let envelope = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| err("missing k8s\\0 prefix"))?;
    let mut api_version = String::new();
    let mut kind = String::new();
    let mut raw: &[u8] = &[];
    for (number, field) in fields(envelope)? {
        match (number, field) {
            (1, Field::Bytes(type_meta)) => {
                for (n, f) in fields(type_meta)? {
                    match (n, f) {
                        (1, Field::Bytes(b)) => api_version = string(b)?,
                        (2, Field::Bytes(b)) => kind = string(b)?,
                        _ => {}
                    }
                }
            }
            (2, Field::Bytes(b)) => raw = b,
            _ => {}
        }
    }
    let mut object = match (api_version.as_str(), kind.as_str()) {
        ("v1", "Namespace") => namespace(raw)?,
        ("v1", "Secret") => secret_or_configmap(raw, true)?,
        ("v1", "ConfigMap") => secret_or_configmap(raw, false)?,
        (_, "DeleteOptions") => return Ok(None),
        _ => {
            return Err(DecodeError(format!(
                "protobuf bodies of {api_version}/{kind} are not supported"
            )));
        }
    };
    object.insert("apiVersion".into(), json!(api_version));
    object.insert("kind".into(), json!(kind));
    Ok(Some(Value::Object(object)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(number: u64, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![((number << 3) | 2) as u8, bytes.len() as u8];
        out.extend_from_slice(bytes);
        out
    }

    /// The protobuf envelope (`k8s\0` + runtime.Unknown) of a v1 Secret, as
    /// helm stores releases: data bytes become base64 in JSON.
    #[test]
    fn decodes_a_secret_envelope() {
        let meta = [
            field(1, b"sh.helm.release.v1.r.v1"),
            field(11, &[field(1, b"owner"), field(2, b"helm")].concat()),
        ]
        .concat();
        let secret = [
            field(1, &meta),
            field(2, &[field(1, b"release"), field(2, b"abc")].concat()),
            field(3, b"helm.sh/release.v1"),
        ]
        .concat();
        let type_meta = [field(1, b"v1"), field(2, b"Secret")].concat();
        let body = [MAGIC.to_vec(), field(1, &type_meta), field(2, &secret)].concat();
        let value = decode(&body).expect("decodes").expect("object");
        assert_eq!(value["kind"], "Secret");
        assert_eq!(value["metadata"]["name"], "sh.helm.release.v1.r.v1");
        assert_eq!(value["metadata"]["labels"]["owner"], "helm");
        assert_eq!(value["data"]["release"], "YWJj");
        assert_eq!(value["type"], "helm.sh/release.v1");
    }
}
