//! Protobuf IDL calls over Triple against the real Java Dubbo 3.3 provider: the
//! `org.tianlu.interop.idl.CatalogService` of `tests/interop/src/main/proto/catalog.proto`,
//! with descriptors from the protoset the Maven build writes (protoc from Maven Central). JSON in,
//! JSON out: nested messages, repeated fields, maps, enums and the well-known types Timestamp,
//! Duration, Struct and wrappers; errors as gRPC statuses; bad JSON named by its field.
//!
//! Needs Java 17 and Maven, like the other interop tests (a missing tool fails the test).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value as Json};
use tianlu_protocol::dubbo::{CallError, Status};
use tianlu_protocol::triple::{
    load_protoset, CallMeta, DescriptorPool, IdlCall, IdlCallError, IdlError, JsonOptions,
    TripleConfig, TripleEndpoint,
};
use tianlu_testkit::JavaProvider;

const CATALOG: &str = "org.tianlu.interop.idl.CatalogService";
const TIMEOUT: Duration = Duration::from_secs(20);

/// The descriptor set `mvn package` writes for catalog.proto (imports included).
fn protoset_path() -> PathBuf {
    tianlu_testkit::java::interop_dir()
        .join("target/generated-resources/protobuf/descriptor-sets/catalog.protoset")
}

/// The shared provider (which also builds the Maven project), an endpoint to its Triple port and
/// the descriptor pool from the protoset.
fn setup() -> anyhow::Result<(TripleEndpoint, DescriptorPool)> {
    let provider = JavaProvider::shared()?;
    let addr = provider
        .tri_addr()
        .ok_or_else(|| anyhow!("the shared provider has no Triple port"))?;
    let path = protoset_path();
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "reading {} (written by the interop Maven build)",
            path.display()
        )
    })?;
    let pool = load_protoset(&bytes)?;
    Ok((TripleEndpoint::new(addr, TripleConfig::default()), pool))
}

async fn call(
    ep: &TripleEndpoint,
    pool: &DescriptorPool,
    method: &str,
    request: Json,
) -> Result<Json, IdlCallError> {
    let idl = IdlCall::new(pool, CATALOG, method).map_err(IdlCallError::Request)?;
    Ok(ep
        .call_idl(&idl, &request, &CallMeta::default(), TIMEOUT)
        .await?
        .json)
}

/// Item 1 as the provider seeds it, in canonical proto3 JSON.
fn item_one() -> Json {
    json!({
        "id": "1",
        "name": "Dream of the Red Chamber",
        "category": "BOOK",
        "price": {"currency": "CNY", "units": "59", "nanos": 900000000},
        "tags": ["classic", "novel"],
        "stock": {"hangzhou": 12, "beijing": 0},
        "reviews": [
            {"author": "alice", "stars": 5, "text": "红楼梦 😀"},
            {"author": "bob", "stars": 4}
        ],
        "createdAt": "2024-02-29T12:34:56.789Z",
        "shelfLife": "86400.500s",
        "attributes": {"pages": 1606.0, "hardcover": true, "translator": null, "languages": ["zh", "en"]},
        "note": "first edition",
        "discount": 0.15,
        "thumbnail": "AAEC/v8=",
        "weight": 1.25,
        "available": true,
        "sku": "18446744073709551615",
        "alsoIn": ["GAME"]
    })
}

fn sorted(v: &Json) -> Json {
    match v {
        Json::Object(map) => {
            let mut entries: Vec<(&String, &Json)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Json::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Json::Array(items) => Json::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn assert_json(got: &Json, expected: &Json, what: &str) {
    assert_eq!(
        sorted(got),
        sorted(expected),
        "{what}:\n got      {got}\n expected {expected}"
    );
}

#[tokio::test]
async fn seeded_items_come_back_in_canonical_json() -> anyhow::Result<()> {
    let (ep, pool) = setup()?;
    let got = call(&ep, &pool, "GetItem", json!({"id": 1})).await?;
    assert_json(&got, &item_one(), "GetItem(1)");
    // lowerCamel method names work too (Dubbo's own fallback is for the path; ours for lookup).
    let got = call(&ep, &pool, "getItem", json!({"id": "2"})).await?;
    assert_json(
        &got,
        &json!({
            "id": "2", "name": "Kind of Blue", "category": "MUSIC",
            "price": {"currency": "USD", "units": "19"},
            "tags": ["jazz"], "createdAt": "2024-02-29T12:34:56.789Z",
            "available": true, "sku": "9007199254740993"
        }),
        "GetItem(2)",
    );
    Ok(())
}

#[tokio::test]
async fn every_field_kind_round_trips_through_echo() -> anyhow::Result<()> {
    let (ep, pool) = setup()?;
    let mut item = item_one();
    item["id"] = json!("-9223372036854775808");
    item["attributes"] = json!({"nested": {"deep": [1.5, "x", false, null, {}]}, "empty": []});
    item["reviews"] = json!([{"author": "中文", "stars": -3}, {}]);
    item["stock"] = json!({"": 1, "🙂": -2147483648});
    item["alsoIn"] = json!(["BOOK", "MUSIC", "GAME"]);
    item["createdAt"] = json!("1969-12-31T23:59:59.999999999Z");
    item["shelfLife"] = json!("-1.000000001s");
    item["note"] = json!("");
    item["discount"] = json!(0.0);
    let got = call(&ep, &pool, "EchoItem", item.clone()).await?;
    // Wrappers keep an explicit default ("" / 0.0); an empty nested message stays `{}`.
    assert_json(&got, &item, "EchoItem");

    // Inputs in the other accepted spellings come back canonical.
    let loose = json!({
        "id": 7,
        "category": 2,
        "created_at": "2024-02-29T20:34:56.789+08:00",
        "sku": 42,
        "price": {"units": "-5"},
        "thumbnail": "AAEC_v8"
    });
    let got = call(&ep, &pool, "EchoItem", loose).await?;
    assert_json(
        &got,
        &json!({
            "id": "7", "category": "MUSIC", "createdAt": "2024-02-29T12:34:56.789Z",
            "sku": "42", "price": {"units": "-5"}, "thumbnail": "AAEC/v8="
        }),
        "EchoItem(loose)",
    );
    // An empty request is an empty message.
    assert_json(
        &call(&ep, &pool, "EchoItem", json!({})).await?,
        &json!({}),
        "EchoItem({})",
    );
    assert_json(
        &call(&ep, &pool, "EchoItem", Json::Null).await?,
        &json!({}),
        "EchoItem(null)",
    );
    Ok(())
}

#[tokio::test]
async fn search_with_repeated_enums_wrappers_and_maps_of_messages() -> anyhow::Result<()> {
    let (ep, pool) = setup()?;
    let got = call(
        &ep,
        &pool,
        "Search",
        json!({"categories": ["MUSIC", "GAME"]}),
    )
    .await?;
    assert_eq!(got["total"], json!(2), "{got}");
    assert_eq!(got["generatedAt"], json!("2025-01-01T00:00:00Z"), "{got}");
    let names: Vec<&str> = got["items"]
        .as_array()
        .ok_or_else(|| anyhow!("items in {got}"))?
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert_eq!(names, ["Kind of Blue", "Go"]);
    assert_eq!(
        got["byName"]["Go"],
        json!({"id": "3", "name": "Go", "category": "GAME", "createdAt": "2024-02-29T12:34:56.789Z"})
    );

    // The Int32Value limit: present 1 → one item; absent → all; explicit 0 → none.
    let got = call(&ep, &pool, "Search", json!({"limit": 1})).await?;
    assert_eq!(got["total"], json!(3));
    assert_eq!(got["items"].as_array().map(Vec::len), Some(1));
    assert_json(&got["items"][0], &item_one(), "Search(limit 1)");
    let got = call(&ep, &pool, "Search", json!({"query": "o"})).await?;
    assert_eq!(got["items"].as_array().map(Vec::len), Some(3), "{got}");
    let got = call(&ep, &pool, "Search", json!({"limit": 0})).await?;
    assert_eq!(got["total"], json!(3));
    assert!(got.get("items").is_none(), "{got}");

    // Proto field names and defaults on request.
    let idl = IdlCall::new(&pool, CATALOG, "Search")?.with_json_options(JsonOptions {
        emit_defaults: true,
        proto_field_names: true,
        enums_as_numbers: true,
        int64_as_numbers: true,
        ..JsonOptions::default()
    });
    let reply = ep
        .call_idl(
            &idl,
            &json!({"query": "Go", "categories": [3]}),
            &CallMeta::default(),
            TIMEOUT,
        )
        .await?;
    let item = &reply.json["items"][0];
    assert_eq!(item["id"], json!(3), "{item}");
    assert_eq!(item["category"], json!(3), "{item}");
    assert_eq!(
        item["created_at"],
        json!("2024-02-29T12:34:56.789Z"),
        "{item}"
    );
    assert_eq!(item["tags"], json!([]), "{item}");
    assert_eq!(item["weight"], json!(0.0), "{item}");
    assert!(reply.json.get("by_name").is_some(), "{}", reply.json);
    Ok(())
}

#[tokio::test]
async fn provider_errors_map_through_the_status_table() -> anyhow::Result<()> {
    let (ep, pool) = setup()?;
    // TriRpcStatus.NOT_FOUND → gRPC 5 → "not found".
    match call(&ep, &pool, "GetItem", json!({"id": 99})).await {
        Err(IdlCallError::Call(CallError::Status { status, message })) => {
            assert_eq!(status, Status::ServiceNotFound, "{message}");
            assert!(
                message.contains("NOT_FOUND") && message.contains("no item 99"),
                "{message}"
            );
        }
        other => bail!("GetItem(99) gave {other:?}"),
    }
    // An IllegalArgumentException → gRPC 2 UNKNOWN → 70 SERVICE_ERROR.
    match call(&ep, &pool, "GetItem", json!({"id": -1})).await {
        Err(
            e @ IdlCallError::Call(CallError::Status {
                status: Status::ServiceError,
                ..
            }),
        ) => {
            assert!(e.reached_provider());
            assert!(e.to_string().contains("UNKNOWN"), "{e}");
        }
        other => bail!("GetItem(-1) gave {other:?}"),
    }
    // A method the service does not have: Dubbo 3.3.6 does not answer UNIMPLEMENTED here but
    // fails looking it up (a NullPointerException in DescriptorUtils.findTripleMethodDescriptor),
    // which arrives as gRPC 2 UNKNOWN → 70 SERVICE_ERROR.
    let other = tianlu_protocol::triple::RawCall {
        service: CATALOG.into(),
        method: "DeleteItem".into(),
        meta: CallMeta::default(),
        message: Default::default(),
    };
    match ep.call_raw(&other, TIMEOUT).await {
        Err(CallError::Status { status, message }) => {
            assert_eq!(status, Status::ServiceError, "{message}");
            assert!(message.starts_with("grpc-status 2 UNKNOWN"), "{message}");
        }
        other => bail!("DeleteItem gave {other:?}"),
    }
    // Still fine afterwards.
    assert_eq!(
        call(&ep, &pool, "GetItem", json!({"id": 3})).await?["name"],
        json!("Go")
    );
    Ok(())
}

#[tokio::test]
async fn bad_json_names_the_field_and_sends_nothing() -> anyhow::Result<()> {
    let (ep, pool) = setup()?;
    let cases = [
        (json!({"id": "abc"}), "id"),
        (json!({"price": {"units": "1.5"}}), "price.units"),
        (
            json!({"reviews": [{}, {"stars": "many"}]}),
            "reviews[1].stars",
        ),
        (json!({"stock": {"a": "x"}}), "stock.a"),
        (json!({"category": "FOOD"}), "category"),
        (json!({"createdAt": "yesterday"}), "createdAt"),
        (json!({"shelfLife": "5 minutes"}), "shelfLife"),
        (json!({"note": 5}), "note"),
    ];
    for (input, field) in cases {
        match call(&ep, &pool, "EchoItem", input.clone()).await {
            Err(e @ IdlCallError::Request(IdlError::InvalidJson { .. })) => {
                assert!(!e.reached_provider());
                let IdlCallError::Request(IdlError::InvalidJson {
                    field: got,
                    message,
                    ..
                }) = &e
                else {
                    unreachable!()
                };
                assert_eq!(got, field, "{input}: {e}");
                assert_eq!(message, "org.tianlu.interop.idl.Item");
            }
            other => bail!("{input} gave {other:?}"),
        }
    }
    match call(&ep, &pool, "EchoItem", json!({"colour": "red"})).await {
        Err(IdlCallError::Request(IdlError::InvalidJson { reason, .. })) => {
            assert!(reason.contains("colour"), "{reason}")
        }
        other => bail!("an unknown field gave {other:?}"),
    }
    match IdlCall::new(&pool, CATALOG, "Nope") {
        Err(IdlError::UnknownMethod { service, method }) => {
            assert_eq!(service, CATALOG);
            assert_eq!(method, "Nope");
        }
        other => bail!("{other:?}"),
    }
    assert_eq!(ep.in_flight(), 0);
    Ok(())
}
