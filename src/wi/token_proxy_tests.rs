use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const CA: &str = "/var/run/secrets/azure/wi/ca-cert/ca.crt";

/// Upstream e2e's values (azure-workload-identity v1.6.0 scripts/ci-e2e.sh): the proxy at the
/// API server's in-cluster name, a hex SNI, the CA file the webhook always sets.
fn e2e() -> ProxySettings {
    settings(&env(&[
        (ENV_TOKEN_PROXY, "https://kubernetes.default.svc"),
        (ENV_SNI_NAME, "0a1b2c"),
        (ENV_CA_FILE, CA),
    ]))
    .unwrap()
    .unwrap()
}

#[test]
fn settings_are_read_and_refused_as_the_sdks_do() {
    assert_eq!(settings(&env(&[])), Ok(None), "no proxy: the Entra path");
    let s = e2e();
    assert_eq!(
        s.url.path, "/",
        "an empty path becomes / (Go parseTokenProxyURL)"
    );
    assert_eq!(
        (s.url.host.as_str(), s.url.port),
        ("kubernetes.default.svc", 443)
    );
    assert_eq!(s.ca, CaSource::File(CA.into()));
    // Python CUSTOM_PROXY_ENV_ERROR / Go errCustomEndpointSetWithoutTokenProxy.
    let e = settings(&env(&[(ENV_SNI_NAME, "x")])).unwrap_err();
    assert!(e.contains("is not set") && e.contains(ENV_SNI_NAME), "{e}");
    // Python CA_DATA_FILE_ERROR / Go errCustomEndpointMultipleCASourcesSet.
    let e = settings(&env(&[
        (ENV_TOKEN_PROXY, "https://p"),
        (ENV_CA_FILE, CA),
        (ENV_CA_DATA, "-----BEGIN CERTIFICATE-----"),
    ]))
    .unwrap_err();
    assert!(e.contains("both"), "{e}");
    let data = settings(&env(&[
        (ENV_TOKEN_PROXY, "https://p"),
        (ENV_CA_DATA, "pem"),
    ]));
    assert_eq!(data.unwrap().unwrap().ca, CaSource::Data);
    let none = settings(&env(&[(ENV_TOKEN_PROXY, "https://p")]));
    assert_eq!(none.unwrap().unwrap().ca, CaSource::System);
}

/// Python `_validate_url`, Go `parseTokenProxyURL`: https only, no user info, query or fragment.
#[test]
fn the_proxy_url_is_validated() {
    for (raw, why) in [
        ("http://p", "https"),
        ("https://u:pw@p", "user name"),
        ("https://p/x?a=b", "query"),
        ("https://p/#f", "fragment"),
        ("https://:8443", "host"),
    ] {
        let e = proxy_url(raw).unwrap_err();
        assert!(e.contains(why), "{raw}: {e}");
    }
    let u = proxy_url("https://[fd00::1]:8443/base").unwrap();
    assert_eq!(
        (
            u.host.as_str(),
            u.port,
            u.path.as_str(),
            u.authority.as_str()
        ),
        ("fd00::1", 8443, "/base", "[fd00::1]:8443")
    );
}

/// The proxy path, then the token request's path: Python `proxy_path.rstrip("/") + "/" +
/// path.lstrip("/")`; Go `proxyURL.JoinPath(req.URL.EscapedPath())`.
#[test]
fn the_token_path_follows_the_proxy_path() {
    let s = e2e();
    let login = "https://login.microsoftonline.com/";
    assert_eq!(token_path(&s.url, login, "t"), "/t/oauth2/v2.0/token");
    let base = proxy_url("https://p/base/").unwrap();
    assert_eq!(token_path(&base, login, "t"), "/base/t/oauth2/v2.0/token");
    let with_path = "https://login.example/custom/";
    assert_eq!(
        token_path(&base, with_path, "t"),
        "/base/custom/t/oauth2/v2.0/token"
    );
}

#[test]
fn the_route_keeps_sni_host_and_trust_and_maps_the_in_cluster_name() {
    let api = "https://aks-dns.hcp.eastus.azmk8s.io:443";
    let r = route(&e2e(), "https://login.microsoftonline.com/", "t", api);
    assert_eq!(r.url, "https://0a1b2c:443/t/oauth2/v2.0/token");
    assert_eq!(r.tls_name, "0a1b2c");
    assert_eq!(r.host_header, "kubernetes.default.svc");
    assert_eq!(r.connect, "aks-dns.hcp.eastus.azmk8s.io:443");
    assert!(r.note.unwrap().contains("in-cluster name"));
    assert!(r.trust.contains(CA));

    // An address the plugin can reach itself (the ground's proxy) is dialled as it is.
    let mut s = e2e();
    s.url = proxy_url("https://127.0.0.1:8444").unwrap();
    let r = route(&s, "https://127.0.0.1:9443/", "t", "https://127.0.0.1:6443");
    assert_eq!(r.connect, "127.0.0.1:8444");
    assert_eq!(r.url, "https://0a1b2c:8444/t/oauth2/v2.0/token");
    assert_eq!(r.host_header, "127.0.0.1:8444");
    assert_eq!(r.note, None);
    // Without an SNI setting the TLS name is the proxy's host.
    s.sni = None;
    let r = route(&s, "https://127.0.0.1:9443/", "t", "https://127.0.0.1:6443");
    assert_eq!(r.tls_name, "127.0.0.1");
}

/// Status and AADSTS first; the words (the ground's: AKS's are UNCONFIRMED) only refine a 403.
#[test]
fn refusals_are_read_from_status_then_words() {
    assert_eq!(classify(401, "", None), Refusal::TokenNotAccepted);
    assert_eq!(
        classify(401, "AADSTS70025: no federated credential", Some(70025)),
        Refusal::Entra(70025)
    );
    assert_eq!(
        classify(
            403,
            "'system:serviceaccount:ns:app' may not use managed identity 'c': RBAC does not grant verb 'use-managed-identity'",
            None
        ),
        Refusal::Forbidden(Forbidden::NotGranted)
    );
    assert_eq!(
        classify(
            403,
            "identity binding 'ib' of managed identity 'c' is Failed, not Succeeded",
            None
        ),
        Refusal::Forbidden(Forbidden::Binding(Some("Failed".into())))
    );
    assert_eq!(
        classify(403, "no identity binding of managed identity 'c'", None),
        Refusal::Forbidden(Forbidden::Binding(None))
    );
    assert_eq!(
        classify(403, "forbidden", None),
        Refusal::Forbidden(Forbidden::Unknown)
    );
    assert_eq!(classify(502, "bad gateway", None), Refusal::Other);
    assert!(cause(&Refusal::TokenNotAccepted).contains(AUDIENCE));
}

/// A container without a shell: its proxy variables and CA source from its spec, read from
/// the vendored pod as upstream v1.6.0 mutates it (data/azure-api/aks-identity-bindings/
/// k8s-pod-mutated.yaml: item ca-cert/ca.crt of ConfigMap kube-root-ca.crt).
#[test]
fn a_pods_spec_names_its_proxy_settings_and_ca_source() {
    let pod: Pod = serde_yaml::from_str(include_str!(
        "../../tests/azure-emulator/data/azure-api/aks-identity-bindings/k8s-pod-mutated.yaml"
    ))
    .unwrap();
    let env = spec_env(&pod, "app");
    assert_eq!(env[ENV_TOKEN_PROXY], "https://kubernetes.default.svc");
    assert_eq!(env[ENV_CA_FILE], CA);
    assert!(!env.contains_key(ENV_CA_DATA));
    assert_eq!(env.len(), 3, "only the proxy variables: {env:?}");
    assert_eq!(
        ca_config_map(&pod, "app", CA),
        Ok(("kube-root-ca.crt".into(), "ca.crt".into()))
    );
    let e = ca_config_map(&pod, "app", "/etc/other/ca.crt").unwrap_err();
    assert!(e.contains("no ConfigMap"), "{e}");
}
