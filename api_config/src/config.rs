//! [`Config`]: the bootstrap plus every api_config file it references, loaded together and
//! cross-checked (route `clusterName`s must name bootstrap clusters). All problems of all files
//! are reported at once.

use std::path::{Path, PathBuf};

use crate::api::route::Backend;
use crate::api::ApiConfig;
use crate::bootstrap::filter::{ApiConfigFilter, HttpFilterConfig, NacosApiSource};
use crate::bootstrap::{Bootstrap, HttpConnectionManager};
use crate::error::{ConfigError, Problem, Warning};

/// Texts of api_configs kept in Nacos, by source: the text, or why it could not be read.
pub type RemoteTexts = std::collections::HashMap<NacosApiSource, Result<String, String>>;

/// A fully loaded and validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The conf.yaml path as given.
    pub file: PathBuf,
    /// The bootstrap.
    pub bootstrap: Bootstrap,
    /// Every api_config file referenced by an apiconfig filter, once each, in listener order.
    pub apis: Vec<ApiConfig>,
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

impl Config {
    /// Loads `path` (conf.yaml) and the api_config files it references (relative paths against
    /// conf.yaml's folder). Returns warnings for accepted no-op keys.
    pub fn load(path: &Path) -> Result<(Config, Vec<Warning>), ConfigError> {
        Config::load_with(path, &RemoteTexts::new())
    }

    /// The api_config sources of `path` that live in Nacos (their texts are fetched by the
    /// caller and given to [`Config::load_with`]). Empty when conf.yaml cannot be read; the
    /// load reports why.
    pub fn nacos_sources(path: &Path) -> Vec<NacosApiSource> {
        let Ok(text) = std::fs::read_to_string(path) else {
            return Vec::new();
        };
        let Ok((bootstrap, _)) = Bootstrap::read(&text, path) else {
            return Vec::new();
        };
        let mut out: Vec<NacosApiSource> = Vec::new();
        for f in bootstrap.listeners.iter().flat_map(|l| &l.hcm.http_filters) {
            if let HttpFilterConfig::ApiConfig(ApiConfigFilter {
                nacos: Some(src), ..
            }) = &f.config
            {
                if !out.contains(src) {
                    out.push(src.clone());
                }
            }
        }
        out
    }

    /// Like [`Config::load`], with the texts of api_configs kept in Nacos (an `Err` is why the
    /// text could not be read).
    pub fn load_with(
        path: &Path,
        remote: &RemoteTexts,
    ) -> Result<(Config, Vec<Warning>), ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::file(path, None, format!("cannot read config file: {e}")))?;
        let (bootstrap, mut cx) = Bootstrap::read(&text, path)?;
        cx.sort();
        let mut problems = cx.problems;
        let mut warnings = cx.warnings;
        let mut apis: Vec<ApiConfig> = Vec::new();
        let filters = bootstrap.listeners.iter().flat_map(|l| &l.hcm.http_filters);
        for f in filters {
            let HttpFilterConfig::ApiConfig(a) = &f.config else {
                continue;
            };
            if apis.iter().any(|x| x.file == a.path)
                || a.adapter.is_some() && a.path.to_string_lossy().starts_with("adapter://")
            {
                continue;
            }
            let text = match &a.nacos {
                None => std::fs::read_to_string(&a.path).map_err(|e| format!("cannot read api_config file {}: {e}", a.path.display())),
                Some(src) => match remote.get(src) {
                    Some(Ok(t)) => Ok(t.clone()),
                    Some(Err(e)) => Err(format!("cannot read api_config {} from Nacos: {e}", a.path.display())),
                    None => Err(format!("api_config {} lives in Nacos; it is read when the gateway starts or reloads", a.path.display())),
                },
            };
            let loaded = text
                .map_err(|message| ConfigError {
                    problems: vec![Problem {
                        file: path.to_path_buf(),
                        line: Some(a.site.0).filter(|l| *l > 0),
                        key_path: a.site.1.clone(),
                        route: None,
                        message,
                    }],
                })
                .and_then(|text| ApiConfig::from_yaml_str(&text, &a.path));
            match loaded {
                Ok((api, w)) => {
                    warnings.extend(w);
                    apis.push(api);
                }
                Err(e) => problems.extend(e.problems),
            }
        }
        problems.extend(cluster_problems(&bootstrap, &apis));
        problems.extend(crate::idl::idl_problems(&bootstrap, &apis));
        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }
        Ok((
            Config {
                file: path.to_path_buf(),
                bootstrap,
                apis,
            },
            warnings,
        ))
    }

    /// The api_config of a connection manager (through its apiconfig filter's path).
    pub fn api_for(&self, hcm: &HttpConnectionManager) -> Option<&ApiConfig> {
        let path = hcm.api_config_path()?;
        self.apis.iter().find(|a| a.file == path)
    }

    /// One line for the start-up log: `1 listener, 7 routes, 2 clusters`.
    pub fn summary(&self) -> String {
        let routes: usize = self.apis.iter().map(|a| a.routes.len()).sum();
        format!(
            "{}, {}, {}",
            plural(self.bootstrap.listeners.len(), "listener"),
            plural(routes, "route"),
            plural(self.bootstrap.clusters.len(), "cluster")
        )
    }
}

/// Problems for routes whose `clusterName` is not a bootstrap cluster.
fn cluster_problems(bootstrap: &Bootstrap, apis: &[ApiConfig]) -> Vec<Problem> {
    let names: Vec<&str> = bootstrap.clusters.iter().map(|c| c.name.as_str()).collect();
    let known = if names.is_empty() {
        "none are defined".to_owned()
    } else {
        format!("defined: {}", names.join(", "))
    };
    let mut problems = Vec::new();
    for api in apis {
        let with_registries = bootstrap
            .listeners
            .iter()
            .filter(|l| l.hcm.api_config_path() == Some(api.file.as_path()))
            .all(|l| !l.hcm.dubbo_proxy().registries.is_empty());
        for r in &api.routes {
            for s in &r.target.split {
                match &s.cluster {
                    Some(name) if !names.contains(&name.as_str()) => problems.push(Problem {
                        file: api.file.clone(),
                        line: Some(s.cluster_site.0).filter(|l| *l > 0),
                        key_path: s.cluster_site.1.clone(),
                        route: Some(r.label()),
                        message: format!(
                            "no cluster named {name:?} in static_resources.clusters ({known})"
                        ),
                    }),
                    _ => {}
                }
            }
            if matches!(r.target.backend, Backend::Registry) {
                let problem = if r.target.interface.is_none() {
                    Some("a route found through the registries needs interface (or set clusterName or url)")
                } else if !with_registries {
                    Some("missing clusterName (or url for a direct provider, or dubboProxyConfig.registries on the listener's dubboproxy filter for discovery)")
                } else {
                    None
                };
                if let Some(message) = problem {
                    problems.push(Problem {
                        file: api.file.clone(),
                        line: Some(r.source.line).filter(|l| *l > 0),
                        key_path: format!("{}.integrationRequest.clusterName", r.source.key_path),
                        route: Some(r.label()),
                        message: message.to_owned(),
                    });
                }
                continue;
            }
            let Backend::Cluster(name) = &r.target.backend else {
                continue;
            };
            let (line, key_path) = r
                .cluster_site
                .clone()
                .unwrap_or((r.source.line, r.source.key_path.clone()));
            if let (Some(want), Some(c)) = (
                r.target.protocol,
                bootstrap.clusters.iter().find(|c| &c.name == name),
            ) {
                if let Some(e) = c.endpoints.iter().find(|e| e.protocol != want) {
                    problems.push(Problem {
                        file: api.file.clone(),
                        line: Some(line).filter(|l| *l > 0),
                        key_path: key_path.clone(),
                        route: Some(r.label()),
                        message: format!(
                            "the route asks for {want:?} but cluster {name:?} has a {:?} endpoint \
                             ({}:{}); set protocol on the cluster's endpoints",
                            e.protocol, e.address.address, e.address.port
                        ),
                    });
                }
            }
            if let (None, Some(c)) = (
                r.target.protocol,
                bootstrap.clusters.iter().find(|c| &c.name == name),
            ) {
                if let Some(e) = c
                    .endpoints
                    .iter()
                    .find(|e| e.protocol == crate::Protocol::Http)
                {
                    problems.push(Problem {
                        file: api.file.clone(),
                        line: Some(line).filter(|l| *l > 0),
                        key_path: key_path.clone(),
                        route: Some(r.label()),
                        message: format!(
                            "cluster {name:?} has a plain HTTP endpoint ({}:{}) but the route \
                             makes Dubbo calls; set requestType: http to forward to it",
                            e.address.address, e.address.port
                        ),
                    });
                }
            }
            if name.is_empty() || names.contains(&name.as_str()) {
                continue;
            }
            problems.push(Problem {
                file: api.file.clone(),
                line: Some(line).filter(|l| *l > 0),
                key_path,
                route: Some(r.label()),
                message: format!(
                    "no cluster named {name:?} in static_resources.clusters ({known})"
                ),
            });
        }
    }
    problems
}
