//! No input makes the loaders or the router panic: every prefix of the fixtures, and some
//! hostile shapes, either load or fail with problems.

use tianlu_api_config::{ApiConfig, Bootstrap, RouteTable};

const CONF: &str = include_str!("../fixtures/conf.yaml");
const API: &str = include_str!("../fixtures/api_config.yaml");

fn char_prefixes(text: &str, step: usize) -> impl Iterator<Item = &str> {
    text.char_indices()
        .map(|(i, _)| i)
        .step_by(step)
        .map(move |i| &text[..i])
}

#[test]
fn prefixes_never_panic() {
    for prefix in char_prefixes(CONF, 5) {
        if let Err(e) = Bootstrap::from_yaml_str(prefix, "conf.yaml") {
            assert!(!e.problems.is_empty());
        }
    }
    for prefix in char_prefixes(API, 5) {
        match ApiConfig::from_yaml_str(prefix, "api.yaml") {
            Ok((api, _)) => {
                let table = RouteTable::new(api.routes).expect("validated routes build a table");
                let _ = table.lookup("GET", "/api/v1/users/%zz/%");
            }
            Err(e) => assert!(!e.problems.is_empty()),
        }
    }
}

#[test]
fn hostile_shapes_are_problems() {
    let deep = format!("{}1{}", "[".repeat(500), "]".repeat(500));
    let long_path = format!("resources:\n  - path: {}\n", "/a".repeat(100));
    let inputs = [
        deep.as_str(),
        long_path.as_str(),
        "resources: 7",
        "resources: [[], {}, 1, null]",
        "? [a]\n: b\n",
        "resources:\n  - path: /x\n    methods: [{httpVerb: GET, integrationRequest: []}]\n",
        "resources:\n  - path: /x\n    methods: [{httpVerb: [GET]}]\n",
        "\u{feff}resources: ~\n",
        "a: &x [*x]\n",
    ];
    for input in inputs {
        let err = ApiConfig::from_yaml_str(input, "api.yaml").expect_err(input);
        assert!(!err.problems.is_empty(), "{input}");
        let err = Bootstrap::from_yaml_str(input, "conf.yaml").expect_err(input);
        assert!(!err.problems.is_empty(), "{input}");
    }
}
