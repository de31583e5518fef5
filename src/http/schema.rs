//! OpenAPI schemas of the bodies checked by the domain's rule tables
//! (`domain::config_rules::Rule`): agent config fields and agent metadata.
//! The table that validates a body also documents it, so the two cannot
//! drift. Objects allow other properties, as the platform ignores unknown
//! keys.

use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;

use crate::domain::config_rules::Rule;

/// The schema `rule` checks.
pub(crate) fn rule(rule: &Rule) -> Schema {
    let typed = |t: Type| ObjectBuilder::new().schema_type(SchemaType::Type(t));
    match rule {
        Rule::Str(max) => typed(Type::String).max_length(*max).into(),
        Rule::Num(lo, hi) => typed(Type::Number).minimum(*lo).maximum(*hi).into(),
        Rule::NumOneOf(set) => typed(Type::Number).enum_values(Some(set.iter().copied())).into(),
        Rule::Enum(set) => typed(Type::String).enum_values(Some(set.iter().copied())).into(),
        Rule::Bool => typed(Type::Boolean).into(),
        Rule::AnyObj => typed(Type::Object).additional_properties(Some(AdditionalProperties::FreeForm(true))).into(),
        Rule::Arr(item) => ArrayBuilder::new().items(RefOr::T(self::rule(item))).into(),
        Rule::Obj(fields, required) => object(fields, required).into(),
        Rule::Custom(_) => typed(Type::Object)
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .description(Some("Checked field by field; see the route's errors"))
            .into(),
    }
}

/// An object with `fields` (each by its rule) and `required`, allowing
/// other properties.
pub(crate) fn object(fields: &[(&str, Rule)], required: &[&str]) -> ObjectBuilder {
    let mut o = ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Object))
        .additional_properties(Some(AdditionalProperties::FreeForm(true)));
    for (name, r) in fields {
        o = o.property(*name, rule(r));
    }
    for name in required {
        o = o.required(*name);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::config_rules::CONFIG_FIELDS;

    #[test]
    fn every_config_field_is_a_documented_property() {
        let schema = serde_json::to_value(object(CONFIG_FIELDS, &[]).build()).expect("json");
        let props = schema["properties"].as_object().expect("properties");
        assert_eq!(props.len(), CONFIG_FIELDS.len());
        assert_eq!(props["firstMessage"]["maxLength"], 500);
        assert_eq!(props["synthesizer"]["properties"]["speed"]["maximum"], 2.0);
        assert_eq!(props["slmModel"]["enum"][0], "electron");
    }
}
