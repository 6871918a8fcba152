//! The `integrationRequest` keys of protobuf IDL routes (`requestType: grpc`): `protoset` (one
//! file or a list, relative to the api_config file) and the limits on `parameterTypes` and
//! `mappingParams` such routes have (a unary rpc takes one message: `mapTo: 0` or the whole
//! body; `opt.group` / `opt.version` may still come from the request).

use std::path::Path;

use crate::idl::{read_protosets, IdlTarget, ProtobufJson};
use crate::mapping::{MapTarget, Mapping};
use crate::yaml::reader::{Ctx, MapView};

/// Reads `protoset` for an IDL route (`idl`), or rejects it on other routes.
pub(crate) fn read(
    cx: &mut Ctx,
    m: &mut MapView<'_>,
    idl: bool,
    base: &Path,
    has_parameter_types: bool,
) -> Option<IdlTarget> {
    if !idl {
        for key in ["protoset", "protobufJson"] {
            m.reject(
                cx,
                key,
                "applies to protobuf IDL routes only (requestType: grpc)",
            );
        }
        return None;
    }
    if has_parameter_types {
        cx.problem(
            m.key_line("parameterTypes"),
            &m.child("parameterTypes"),
            "requestType grpc routes take their types from the protobuf descriptors; remove parameterTypes",
        );
    }
    let protosets = read_protosets(cx, m, "protoset", base);
    let json = match m.map(cx, "protobufJson") {
        Some(mut j) => {
            let mut flag = |key: &'static str| j.bool(cx, key).unwrap_or(false);
            let json = ProtobufJson {
                emit_defaults: flag("emitDefaults"),
                proto_field_names: flag("protoFieldNames"),
                enums_as_numbers: flag("enumsAsNumbers"),
                int64_as_numbers: flag("int64AsNumbers"),
                ignore_unknown_fields: flag("ignoreUnknownFields"),
            };
            j.finish(cx);
            json
        }
        None => ProtobufJson::default(),
    };
    Some(IdlTarget { protosets, json })
}

/// Mapping targets an IDL route cannot use.
pub(crate) fn check_mapping(cx: &mut Ctx, m: &MapView<'_>, mapping: &Mapping) {
    for p in mapping.params() {
        let why = match p.target {
            MapTarget::Arg(0) | MapTarget::Group | MapTarget::Version => continue,
            MapTarget::Arg(_) => "an rpc takes one message: map it with mapTo: 0",
            MapTarget::Interface | MapTarget::Method => {
                "the service and method of a requestType grpc route are fixed by interface and method"
            }
            MapTarget::Types | MapTarget::Values => {
                "requestType grpc routes have no Java types or value lists; map the message with mapTo: 0"
            }
        };
        cx.problem(
            m.key_line("mappingParams"),
            &m.child("mappingParams"),
            format!("mapTo {}: {why}", p.target.name()),
        );
    }
}
