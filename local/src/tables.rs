//! Reads `template.yaml` for the local side: creates tables in DynamoDB Local from its
//! `AWS::DynamoDB::Table` resources, so local and deployed schemas cannot drift, and gives the
//! shape of its functions to the template tests and the bench.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use serde_yaml_ng::Value;

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("template.yaml: {0}")]
    Template(String),
    #[error("DynamoDB: {0}")]
    Dynamo(String),
}

/// The parts of a table resource that DynamoDB Local needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    pub logical_id: String,
    pub attributes: Vec<(String, String)>,
    pub keys: Vec<(String, String)>,
    pub ttl_attribute: Option<String>,
    pub indexes: Vec<IndexSchema>,
}

/// A global secondary index: its name, keys and projection type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSchema {
    pub name: String,
    pub keys: Vec<(String, String)>,
    pub projection: String,
}

/// `(AttributeName, KeyType)` of each element of a `KeySchema`.
fn key_schema(list: &[Value]) -> Result<Vec<(String, String)>, TableError> {
    list.iter().map(|k| Ok((text(&k["AttributeName"], "AttributeName")?, text(&k["KeyType"], "KeyType")?))).collect()
}

fn text(value: &Value, what: &str) -> Result<String, TableError> {
    value.as_str().map(str::to_owned).ok_or_else(|| TableError::Template(format!("{what} must be a literal string")))
}

/// Every table resource of the template.
pub fn schemas(template: &str) -> Result<Vec<TableSchema>, TableError> {
    let doc: Value = serde_yaml_ng::from_str(template).map_err(|e| TableError::Template(e.to_string()))?;
    let resources =
        doc.get("Resources").and_then(Value::as_mapping).ok_or_else(|| TableError::Template("no Resources".into()))?;
    let mut tables = Vec::new();
    for (id, resource) in resources {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::DynamoDB::Table") {
            continue;
        }
        let logical_id = text(id, "a logical id")?;
        let props =
            resource.get("Properties").ok_or_else(|| TableError::Template(format!("{logical_id}: no Properties")))?;
        if props.get("LocalSecondaryIndexes").is_some() {
            return Err(TableError::Template(format!(
                "{logical_id}: local secondary indexes are not supported locally"
            )));
        }
        let list = |name: &str| props.get(name).and_then(Value::as_sequence).cloned().unwrap_or_default();
        let attributes = list("AttributeDefinitions")
            .iter()
            .map(|a| Ok((text(&a["AttributeName"], "AttributeName")?, text(&a["AttributeType"], "AttributeType")?)))
            .collect::<Result<_, TableError>>()?;
        let keys = key_schema(&list("KeySchema"))?;
        let indexes = list("GlobalSecondaryIndexes")
            .iter()
            .map(|index| {
                let keys = key_schema(index["KeySchema"].as_sequence().map(Vec::as_slice).unwrap_or_default())?;
                let projection = text(&index["Projection"]["ProjectionType"], "Projection.ProjectionType")?;
                Ok(IndexSchema { name: text(&index["IndexName"], "IndexName")?, keys, projection })
            })
            .collect::<Result<_, TableError>>()?;
        let ttl_attribute = match props.get("TimeToLiveSpecification") {
            Some(ttl) if ttl.get("Enabled").and_then(Value::as_bool) == Some(true) => {
                Some(text(&ttl["AttributeName"], "TimeToLiveSpecification.AttributeName")?)
            }
            _ => None,
        };
        tables.push(TableSchema { logical_id, attributes, keys, ttl_attribute, indexes });
    }
    Ok(tables)
}

/// The single table of the template (the service uses one).
pub fn auth_table(template: &str) -> Result<TableSchema, TableError> {
    let mut all = schemas(template)?;
    match all.len() {
        1 => Ok(all.remove(0)),
        n => Err(TableError::Template(format!("expected one DynamoDB table, found {n}"))),
    }
}

/// Creates `name` with `schema` unless it exists already, then enables its TTL.
pub async fn create(client: &Client, name: &str, schema: &TableSchema) -> Result<(), TableError> {
    let dynamo = |e: &dyn std::fmt::Display| TableError::Dynamo(e.to_string());
    let mut request = client.create_table().table_name(name).billing_mode(BillingMode::PayPerRequest);
    for (attribute, kind) in &schema.attributes {
        let definition = AttributeDefinition::builder()
            .attribute_name(attribute)
            .attribute_type(ScalarAttributeType::from(kind.as_str()))
            .build()
            .map_err(|e| dynamo(&e))?;
        request = request.attribute_definitions(definition);
    }
    let elements = |keys: &[(String, String)]| {
        keys.iter()
            .map(|(attribute, kind)| {
                KeySchemaElement::builder().attribute_name(attribute).key_type(KeyType::from(kind.as_str())).build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| dynamo(&e))
    };
    request = request.set_key_schema(Some(elements(&schema.keys)?));
    for index in &schema.indexes {
        let projection = Projection::builder().projection_type(ProjectionType::from(index.projection.as_str())).build();
        let index = GlobalSecondaryIndex::builder()
            .index_name(&index.name)
            .set_key_schema(Some(elements(&index.keys)?))
            .projection(projection)
            .build()
            .map_err(|e| dynamo(&e))?;
        request = request.global_secondary_indexes(index);
    }
    // DynamoDB Local may accept connections a moment before it serves requests.
    let mut attempt = 0;
    loop {
        match request.clone().send().await {
            Ok(_) => break,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => return Ok(()),
            Err(e) if attempt < 20 && e.as_service_error().is_none() => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => return Err(TableError::Dynamo(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())),
        }
    }
    if let Some(attribute) = &schema.ttl_attribute {
        let spec = TimeToLiveSpecification::builder()
            .attribute_name(attribute)
            .enabled(true)
            .build()
            .map_err(|e| dynamo(&e))?;
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(|e| TableError::Dynamo(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()))?;
    }
    Ok(())
}

/// `template.yaml` as JSON, with its intrinsic-function tags (`!Ref`, `!GetAtt`, …) read as the
/// plain values they tag: for readers of the template's shape (its functions, their sizes,
/// events and grants) rather than of what CloudFormation would resolve.
pub fn template_json(text: &str) -> Result<serde_json::Value, TableError> {
    fn strip_tags(value: Value) -> Value {
        match value {
            Value::Tagged(tagged) => strip_tags(tagged.value),
            Value::Sequence(items) => Value::Sequence(items.into_iter().map(strip_tags).collect()),
            Value::Mapping(map) => Value::Mapping(map.into_iter().map(|(k, v)| (k, strip_tags(v))).collect()),
            other => other,
        }
    }
    let yaml: Value = serde_yaml_ng::from_str(text).map_err(|e| TableError::Template(e.to_string()))?;
    serde_json::to_value(strip_tags(yaml)).map_err(|e| TableError::Template(e.to_string()))
}

/// `(logical id, resource)` of every `AWS::Serverless::Function` of a [`template_json`].
pub fn serverless_functions(doc: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    let resources = doc["Resources"].as_object().into_iter().flatten();
    resources.filter(|(_, r)| r["Type"] == "AWS::Serverless::Function").map(|(id, r)| (id.clone(), r.clone())).collect()
}

/// The crate under `functions/` (and binary) of a template function: `GetMeFunction` →
/// `get-me`, as `scripts/lambda-bootstrap.sh` maps a logical id for SAM's makefile build.
pub fn function_binary(logical_id: &str) -> String {
    let name = logical_id.strip_suffix("Function").unwrap_or(logical_id);
    let mut binary = String::new();
    for (i, c) in name.char_indices() {
        if c.is_ascii_uppercase() && i > 0 {
            binary.push('-');
        }
        binary.push(c.to_ascii_lowercase());
    }
    binary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_declares_one_table_with_pk_sk_and_ttl() {
        let template = include_str!("../../template.yaml");
        let table = auth_table(template).expect("table");
        assert_eq!(table.keys, vec![("pk".into(), "HASH".into()), ("sk".into(), "RANGE".into())]);
        assert_eq!(table.ttl_attribute.as_deref(), Some("ttl"));
        let index = &table.indexes[0];
        assert_eq!(index.name, bookshelf::store::USERS_BY_CREATED);
        assert_eq!(index.keys, vec![("kind".into(), "HASH".into()), ("created_at".into(), "RANGE".into())]);
        assert_eq!(index.projection, "KEYS_ONLY");
    }
}
