//! The stand-in city portal: a real OpenID Connect provider on 127.0.0.1,
//! spoken to over HTTP like a client and a browser would.

use std::collections::HashMap;
use std::net::SocketAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use server::dev_portal::{CITIZENS, DevPortal, PortalClient, PortalHandle, Tamper};
use sha2::{Digest, Sha256};

const CLIENT_ID: &str = "ningyu-test";
// Port 9 (discard) on the URIs below is never contacted, because the test
// client does not follow redirects.
const CLIENT_SECRET: &str = "test-secret";
const REDIRECT_URI: &str = "http://127.0.0.1:9/auth/callback";
const SIGNED_OUT_URI: &str = "http://127.0.0.1:9/signed-out";
const UNREGISTERED_URI: &str = "http://127.0.0.1:9/elsewhere";
const SCOPE: &str = "openid profile phone";

/// A running portal and a client that does not follow redirects or store cookies.
struct TestPortal {
    issuer: String,
    handle: PortalHandle,
    http: reqwest::Client,
}

impl TestPortal {
    async fn start() -> Self {
        let client = PortalClient {
            client_id: CLIENT_ID.to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            post_logout_redirect_uris: vec![SIGNED_OUT_URI.to_owned()],
        };
        let listen: SocketAddr = "127.0.0.1:0".parse().expect("valid address");
        let portal = DevPortal::bind(listen, vec![client])
            .await
            .expect("portal binds");
        let issuer = portal.issuer();
        assert_eq!(issuer, format!("http://{}", portal.local_addr()));
        let handle = portal.handle();
        tokio::spawn(portal.run_until(std::future::pending()));

        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client builds");
        Self {
            issuer,
            handle,
            http,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(self.url(path));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("request is sent")
    }

    async fn json(&self, path: &str) -> Value {
        self.get(path, None).await.json().await.expect("JSON body")
    }

    /// Signs `citizen` in through the login form and returns the redirect.
    async fn log_in(&self, request: &AuthRequest, citizen: &str) -> LoginRedirect {
        let mut form = request.params();
        form.push(("citizen".to_owned(), citizen.to_owned()));
        let response = self
            .http
            .post(self.url("/authorize"))
            .form(&form)
            .send()
            .await
            .expect("request is sent");
        assert_eq!(response.status(), 303, "login redirects back");
        let cookie = response
            .headers()
            .get("set-cookie")
            .expect("login sets the portal session cookie")
            .to_str()
            .expect("ASCII cookie")
            .to_owned();
        LoginRedirect {
            query: redirect_query(&response),
            cookie,
        }
    }

    /// Redeems `code` with HTTP Basic client authentication.
    async fn redeem(&self, code: &str, verifier: &str) -> reqwest::Response {
        self.redeem_with(code, verifier, CLIENT_SECRET).await
    }

    async fn redeem_with(&self, code: &str, verifier: &str, secret: &str) -> reqwest::Response {
        self.http
            .post(self.url("/token"))
            .basic_auth(CLIENT_ID, Some(secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .expect("request is sent")
    }

    /// Runs the whole flow for `citizen` and returns the token response.
    async fn token_for(&self, citizen: &str, request: &AuthRequest) -> Value {
        let login = self.log_in(request, citizen).await;
        let response = self.redeem(&login.query["code"], &request.verifier).await;
        assert_eq!(response.status(), 200, "token request succeeds");
        response.json().await.expect("JSON body")
    }

    async fn decoding_key(&self, kid: &str) -> DecodingKey {
        let jwks = self.json("/jwks").await;
        let key = jwks["keys"]
            .as_array()
            .expect("keys array")
            .iter()
            .find(|key| key["kid"] == kid)
            .unwrap_or_else(|| panic!("JWKS lists kid {kid}: {jwks}"));
        DecodingKey::from_rsa_components(
            key["n"].as_str().expect("n"),
            key["e"].as_str().expect("e"),
        )
        .expect("valid RSA components")
    }
}

/// The parameters of one authorization request, with its PKCE verifier.
struct AuthRequest {
    state: String,
    nonce: Option<String>,
    verifier: String,
    challenge: String,
    prompt: Option<&'static str>,
}

impl AuthRequest {
    fn new() -> Self {
        let verifier = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Self {
            state: uuid::Uuid::new_v4().to_string(),
            nonce: Some(uuid::Uuid::new_v4().to_string()),
            verifier,
            challenge,
            prompt: None,
        }
    }

    fn params(&self) -> Vec<(String, String)> {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("scope", SCOPE),
            ("state", &self.state),
            ("code_challenge", &self.challenge),
            ("code_challenge_method", "S256"),
        ];
        if let Some(nonce) = &self.nonce {
            params.push(("nonce", nonce));
        }
        if let Some(prompt) = self.prompt {
            params.push(("prompt", prompt));
        }
        params
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    /// Returns `/authorize?...` with these parameters, `overrides` replacing
    /// or adding some and an empty override value removing one.
    fn path(&self, overrides: &[(&str, &str)]) -> String {
        let mut params = self.params();
        for (name, value) in overrides {
            params.retain(|(existing, _)| existing != name);
            if !value.is_empty() {
                params.push(((*name).to_owned(), (*value).to_owned()));
            }
        }
        let query = serde_urlencoded::to_string(&params).expect("query encodes");
        format!("/authorize?{query}")
    }
}

struct LoginRedirect {
    query: HashMap<String, String>,
    /// The `Set-Cookie` header of the login response.
    cookie: String,
}

impl LoginRedirect {
    /// Returns the `name=value` pair to send back in a `Cookie` header.
    fn cookie_pair(&self) -> &str {
        self.cookie.split(';').next().expect("cookie pair")
    }
}

/// Checks that `response` is a 303 to the registered redirect URI and
/// returns its query parameters.
fn redirect_query(response: &reqwest::Response) -> HashMap<String, String> {
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"]
        .to_str()
        .expect("ASCII location");
    let url = url::Url::parse(location).expect("absolute location");
    assert_eq!(
        format!("{}://{}{}", url.scheme(), url.authority(), url.path()),
        REDIRECT_URI
    );
    url.query_pairs().into_owned().collect()
}

/// Decodes a JWT's header and claims without any validation.
fn decode_unverified(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut decode_part = || {
        let part = parts.next().expect("JWT part");
        let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url part");
        serde_json::from_slice::<Value>(&bytes).expect("JSON part")
    };
    let header = decode_part();
    let claims = decode_part();
    (header, claims)
}

/// Checks only the signature, ignoring every claim.
fn signature_verifies(token: &str, key: &DecodingKey) -> bool {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, key, &validation).is_ok()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn discovery_lists_endpoints_under_issuer() {
    let portal = TestPortal::start().await;

    let document = portal.json("/.well-known/openid-configuration").await;

    assert_eq!(document["issuer"], portal.issuer);
    for (field, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/jwks"),
        ("end_session_endpoint", "/end-session"),
    ] {
        assert_eq!(document[field], portal.url(path), "{field}");
    }
    assert_eq!(
        document["response_types_supported"],
        serde_json::json!(["code"])
    );
    assert_eq!(
        document["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        document["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    assert_eq!(
        document["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post"])
    );
    assert_eq!(
        document["scopes_supported"],
        serde_json::json!(["openid", "profile", "phone"])
    );
}

#[tokio::test]
async fn code_flow_issues_verifiable_id_token() {
    let portal = TestPortal::start().await;
    let request = AuthRequest::new();

    let page = portal.get(&request.path(&[]), None).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("HTML body");
    assert!(html.contains(r#"<html lang="zh-CN">"#), "{html}");
    assert!(html.contains("<h1>"), "page has a heading");
    assert!(html.contains("本地开发替身"), "page says it is a stand-in");
    assert_eq!(html.matches("<form ").count(), 1, "one form");
    assert!(html.contains(r#"<form method="post" action="/authorize">"#));
    assert!(html.contains(&format!(
        r#"<input type="hidden" name="state" value="{}">"#,
        request.state
    )));
    for citizen in CITIZENS {
        assert!(
            html.contains(&format!(r#"name="citizen" value="{}""#, citizen.subject)),
            "button for {}",
            citizen.subject
        );
        assert!(html.contains(citizen.name), "name of {}", citizen.subject);
        assert!(html.contains(citizen.description_zh));
        assert!(html.contains(citizen.description_en));
        assert!(!html.contains(citizen.mobile), "page hides mobile numbers");
    }

    let login = portal.log_in(&request, "demo-parent").await;
    assert_eq!(login.query["state"], request.state);
    assert_eq!(login.query["iss"], portal.issuer);
    let code = &login.query["code"];
    assert!(code.len() >= 22, "code carries at least 128 bits: {code}");
    assert!(login.cookie.contains("HttpOnly"), "{}", login.cookie);
    assert!(login.cookie.contains("SameSite=Lax"), "{}", login.cookie);

    let before = now();
    let response = portal.redeem(code, &request.verifier).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: Value = response.json().await.expect("JSON body");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 600);
    assert_eq!(tokens["scope"], SCOPE);

    let id_token = tokens["id_token"].as_str().expect("id_token");
    let (header, _) = decode_unverified(id_token);
    let kid = header["kid"].as_str().expect("kid");
    assert_eq!(header["alg"], "RS256");
    let key = portal.decoding_key(kid).await;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[CLIENT_ID]);
    validation.set_issuer(&[&portal.issuer]);
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .expect("ID token verifies against the JWKS")
        .claims;
    assert_eq!(claims["sub"], "demo-parent");
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["iss"], portal.issuer);
    assert_eq!(claims["nonce"], request.nonce.clone().expect("nonce"));
    assert_eq!(claims["name"], "陈静");
    assert_eq!(claims["phone_number"], "+8619900000001");
    assert_eq!(claims["real_name_verified"], true);
    let iat = claims["iat"].as_i64().expect("iat");
    assert!((before..=now()).contains(&iat), "iat {iat} is now");
    assert_eq!(claims["nbf"], iat);
    assert_eq!(claims["exp"], iat + 600);
    assert!(claims["auth_time"].as_i64().expect("auth_time") <= iat);

    let access_token = tokens["access_token"].as_str().expect("access_token");
    let userinfo = portal
        .http
        .get(portal.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("request is sent");
    assert_eq!(userinfo.status(), 200);
    let userinfo: Value = userinfo.json().await.expect("JSON body");
    assert_eq!(userinfo["sub"], "demo-parent");
    assert_eq!(userinfo["name"], "陈静");
    assert_eq!(userinfo["phone_number"], "+8619900000001");
    assert_eq!(userinfo["real_name_verified"], true);
}

#[tokio::test]
async fn client_secret_post_authenticates() {
    let portal = TestPortal::start().await;
    let request = AuthRequest::new();
    let login = portal.log_in(&request, "demo-staff").await;

    let response = portal
        .http
        .post(portal.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", login.query["code"].as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", request.verifier.as_str()),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("request is sent");

    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.expect("JSON body");
    let (_, claims) = decode_unverified(tokens["id_token"].as_str().expect("id_token"));
    assert_eq!(claims["sub"], "demo-staff");
}

#[tokio::test]
async fn citizen_claims_keep_middle_dot_and_verification() {
    let portal = TestPortal::start().await;

    let aygul = portal
        .token_for("demo-parent-aygul", &AuthRequest::new())
        .await;
    let (_, claims) = decode_unverified(aygul["id_token"].as_str().expect("id_token"));
    assert_eq!(claims["name"], "阿依古丽·买买提");
    assert_eq!(claims["real_name_verified"], true);

    let unverified = portal
        .token_for("demo-parent-unverified", &AuthRequest::new())
        .await;
    let (_, claims) = decode_unverified(unverified["id_token"].as_str().expect("id_token"));
    assert_eq!(claims["real_name_verified"], false);
}

#[tokio::test]
async fn scope_limits_profile_claims() {
    let portal = TestPortal::start().await;
    let request = AuthRequest::new();
    let path = request.path(&[("scope", "openid unknown-scope")]);
    assert_eq!(portal.get(&path, None).await.status(), 200);

    let mut form: Vec<(String, String)> = request
        .params()
        .into_iter()
        .filter(|(name, _)| name != "scope")
        .collect();
    form.push(("scope".to_owned(), "openid unknown-scope".to_owned()));
    form.push(("citizen".to_owned(), "demo-parent".to_owned()));
    let response = portal
        .http
        .post(portal.url("/authorize"))
        .form(&form)
        .send()
        .await
        .expect("request is sent");
    let query = redirect_query(&response);
    let tokens: Value = portal
        .redeem(&query["code"], &request.verifier)
        .await
        .json()
        .await
        .expect("JSON body");

    assert_eq!(tokens["scope"], "openid");
    let (_, claims) = decode_unverified(tokens["id_token"].as_str().expect("id_token"));
    assert_eq!(claims["sub"], "demo-parent");
    assert!(claims.get("name").is_none(), "{claims}");
    assert!(claims.get("phone_number").is_none(), "{claims}");
    assert!(claims.get("real_name_verified").is_none(), "{claims}");
}

#[tokio::test]
async fn code_works_only_once() {
    let portal = TestPortal::start().await;
    let request = AuthRequest::new();
    let login = portal.log_in(&request, "demo-parent").await;
    let code = &login.query["code"];

    let first = portal.redeem(code, &request.verifier).await;
    assert_eq!(first.status(), 200);
    let tokens: Value = first.json().await.expect("JSON body");

    let second = portal.redeem(code, &request.verifier).await;
    assert_eq!(second.status(), 400);
    let error: Value = second.json().await.expect("JSON body");
    assert_eq!(error["error"], "invalid_grant");

    let userinfo = portal
        .http
        .get(portal.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().expect("access_token"))
        .send()
        .await
        .expect("request is sent");
    assert_eq!(
        userinfo.status(),
        401,
        "a replay revokes the access token issued for the code"
    );
}

#[tokio::test]
async fn wrong_code_verifier_is_invalid_grant() {
    let portal = TestPortal::start().await;
    let request = AuthRequest::new();
    let login = portal.log_in(&request, "demo-parent").await;
    let code = &login.query["code"];

    let wrong = AuthRequest::new().verifier;
    let response = portal.redeem(code, &wrong).await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.expect("JSON body");
    assert_eq!(error["error"], "invalid_grant");

    let retry = portal.redeem(code, &request.verifier).await;
    assert_eq!(retry.status(), 400, "the failed attempt consumed the code");
    let error: Value = retry.json().await.expect("JSON body");
    assert_eq!(error["error"], "invalid_grant");
}

#[tokio::test]
async fn wrong_client_secret_is_invalid_client() {
    let portal = TestPortal::start().await;
    let request = AuthRequest::new();
    let login = portal.log_in(&request, "demo-parent").await;

    let response = portal
        .redeem_with(&login.query["code"], &request.verifier, "not-the-secret")
        .await;

    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    let error: Value = response.json().await.expect("JSON body");
    assert_eq!(error["error"], "invalid_client");
}

#[tokio::test]
async fn unregistered_redirect_uri_is_not_redirected() {
    let portal = TestPortal::start().await;
    let request = AuthRequest::new();

    for path in [
        request.path(&[("redirect_uri", UNREGISTERED_URI)]),
        request.path(&[("redirect_uri", &format!("{REDIRECT_URI}/"))]),
        request.path(&[("client_id", "unknown-client")]),
        request.path(&[("redirect_uri", "")]),
    ] {
        let response = portal.get(&path, None).await;
        assert_eq!(response.status(), 400, "{path}");
        assert!(response.headers().get("location").is_none(), "{path}");
        let html = response.text().await.expect("HTML body");
        assert!(html.contains("登录请求无效"), "{html}");
    }

    let mut form = request.params();
    form.retain(|(name, _)| name != "redirect_uri");
    form.push(("redirect_uri".to_owned(), UNREGISTERED_URI.to_owned()));
    form.push(("citizen".to_owned(), "demo-parent".to_owned()));
    let response = portal
        .http
        .post(portal.url("/authorize"))
        .form(&form)
        .send()
        .await
        .expect("request is sent");
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
}

#[tokio::test]
async fn missing_code_challenge_is_rejected() {
    let portal = TestPortal::start().await;
    let request = AuthRequest::new();

    let cases = [
        request.path(&[("code_challenge", "")]),
        request.path(&[("code_challenge_method", "")]),
        request.path(&[("code_challenge_method", "plain")]),
        request.path(&[("code_challenge", "too-short")]),
    ];
    for path in cases {
        let response = portal.get(&path, None).await;
        let query = redirect_query(&response);
        assert_eq!(query["error"], "invalid_request", "{path}");
        assert_eq!(query["state"], request.state, "{path}");
        assert!(!query.contains_key("code"), "{path}");
    }
}

#[tokio::test]
async fn authorize_errors_redirect_with_state() {
    let portal = TestPortal::start().await;
    let request = AuthRequest::new();

    let cases = [
        (
            request.path(&[("response_type", "token")]),
            "unsupported_response_type",
        ),
        (request.path(&[("response_type", "")]), "invalid_request"),
        (request.path(&[("scope", "profile phone")]), "invalid_scope"),
        (request.path(&[("prompt", "none login")]), "invalid_request"),
        (
            format!("{}&state=again", request.path(&[])),
            "invalid_request",
        ),
    ];
    for (path, expected) in cases {
        let response = portal.get(&path, None).await;
        let query = redirect_query(&response);
        assert_eq!(query["error"], expected, "{path}");
    }
}

#[tokio::test]
async fn prompt_none_without_session_is_login_required() {
    let portal = TestPortal::start().await;
    let mut request = AuthRequest::new();
    request.prompt = Some("none");

    let response = portal.get(&request.path(&[]), None).await;

    let query = redirect_query(&response);
    assert_eq!(query["error"], "login_required");
    assert_eq!(query["state"], request.state);
    assert!(!query.contains_key("code"));
}

#[tokio::test]
async fn prompt_none_with_session_returns_code() {
    let portal = TestPortal::start().await;
    let first = AuthRequest::new();
    let login = portal.log_in(&first, "demo-grandparent").await;
    let (_, first_claims) = decode_unverified(
        portal
            .redeem(&login.query["code"], &first.verifier)
            .await
            .json::<Value>()
            .await
            .expect("JSON body")["id_token"]
            .as_str()
            .expect("id_token"),
    );

    let mut silent = AuthRequest::new();
    silent.prompt = Some("none");
    let response = portal
        .get(&silent.path(&[]), Some(login.cookie_pair()))
        .await;
    let query = redirect_query(&response);
    assert_eq!(query["state"], silent.state);
    let tokens: Value = portal
        .redeem(&query["code"], &silent.verifier)
        .await
        .json()
        .await
        .expect("JSON body");
    let (_, claims) = decode_unverified(tokens["id_token"].as_str().expect("id_token"));
    assert_eq!(claims["sub"], "demo-grandparent");
    assert_eq!(claims["nonce"], silent.nonce.clone().expect("nonce"));
    assert_eq!(
        claims["auth_time"], first_claims["auth_time"],
        "auth_time stays the time of the interactive login"
    );
}

#[tokio::test]
async fn end_session_clears_session_and_returns() {
    let portal = TestPortal::start().await;
    let login = portal.log_in(&AuthRequest::new(), "demo-parent").await;
    let cookie = login.cookie_pair();

    let path = format!(
        "/end-session?{}",
        serde_urlencoded::to_string([
            ("post_logout_redirect_uri", SIGNED_OUT_URI),
            ("state", "bye"),
        ])
        .expect("query encodes")
    );
    let response = portal.get(&path, Some(cookie)).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        format!("{SIGNED_OUT_URI}?state=bye")
    );
    let cleared = response.headers()["set-cookie"]
        .to_str()
        .expect("ASCII cookie");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    let mut silent = AuthRequest::new();
    silent.prompt = Some("none");
    let response = portal.get(&silent.path(&[]), Some(cookie)).await;
    assert_eq!(redirect_query(&response)["error"], "login_required");

    let path = format!(
        "/end-session?{}",
        serde_urlencoded::to_string([("post_logout_redirect_uri", UNREGISTERED_URI)])
            .expect("query encodes")
    );
    let response = portal.get(&path, None).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("location").is_none());
    let html = response.text().await.expect("HTML body");
    assert!(html.contains("已退出"), "{html}");
}

#[tokio::test]
async fn userinfo_rejects_missing_and_unknown_tokens() {
    let portal = TestPortal::start().await;

    let missing = portal.get("/userinfo", None).await;
    assert_eq!(missing.status(), 401);
    assert!(
        missing.headers()["www-authenticate"]
            .to_str()
            .expect("ASCII")
            .starts_with("Bearer")
    );

    let unknown = portal
        .http
        .get(portal.url("/userinfo"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .expect("request is sent");
    assert_eq!(unknown.status(), 401);
    let challenge = unknown.headers()["www-authenticate"]
        .to_str()
        .expect("ASCII");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
}

#[tokio::test]
async fn malformed_token_requests_get_4xx() {
    let portal = TestPortal::start().await;
    let form = "application/x-www-form-urlencoded";
    let valid_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );

    let cases: [(&str, &str, Option<&str>, u16, &str); 7] = [
        (
            "application/json",
            "{}",
            Some(valid_auth.as_str()),
            400,
            "invalid_request",
        ),
        (
            form,
            "grant_type=authorization_code",
            None,
            401,
            "invalid_client",
        ),
        (
            form,
            "grant_type=authorization_code",
            Some("Basic %%%"),
            401,
            "invalid_client",
        ),
        (
            form,
            "grant_type=password",
            Some(valid_auth.as_str()),
            400,
            "unsupported_grant_type",
        ),
        (
            form,
            "code=x",
            Some(valid_auth.as_str()),
            400,
            "invalid_request",
        ),
        (
            form,
            "grant_type=authorization_code&code=unknown",
            Some(valid_auth.as_str()),
            400,
            "invalid_grant",
        ),
        (
            form,
            "grant_type=a&grant_type=b",
            Some(valid_auth.as_str()),
            400,
            "invalid_request",
        ),
    ];
    for (content_type, body, authorization, status, error) in cases {
        let mut request = portal
            .http
            .post(portal.url("/token"))
            .header("content-type", content_type)
            .body(body.to_owned());
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        let response = request.send().await.expect("request is sent");
        assert_eq!(response.status().as_u16(), status, "{body}");
        let json: Value = response.json().await.expect("JSON body");
        assert_eq!(json["error"], error, "{body}");
    }

    let unknown_citizen = {
        let request = AuthRequest::new();
        let mut form = request.params();
        form.push(("citizen".to_owned(), "nobody".to_owned()));
        portal
            .http
            .post(portal.url("/authorize"))
            .form(&form)
            .send()
            .await
            .expect("request is sent")
    };
    assert_eq!(unknown_citizen.status(), 400);
}

#[tokio::test]
async fn rotate_key_changes_kid_and_keeps_old_key() {
    let portal = TestPortal::start().await;
    let first = portal.token_for("demo-parent", &AuthRequest::new()).await;
    let (first_header, _) = decode_unverified(first["id_token"].as_str().expect("id_token"));
    let old_kid = first_header["kid"].as_str().expect("kid").to_owned();

    let new_kid = portal.handle.rotate_key();
    assert_ne!(new_kid, old_kid);

    let second = portal.token_for("demo-parent", &AuthRequest::new()).await;
    let second_token = second["id_token"].as_str().expect("id_token");
    let (second_header, _) = decode_unverified(second_token);
    assert_eq!(second_header["kid"], new_kid);

    let requests_before = portal.handle.jwks_requests();
    let jwks = portal.json("/jwks").await;
    assert_eq!(portal.handle.jwks_requests(), requests_before + 1);
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .expect("keys array")
        .iter()
        .map(|key| key["kid"].as_str().expect("kid"))
        .collect();
    assert_eq!(kids, [old_kid.as_str(), new_kid.as_str()]);
    for key in jwks["keys"].as_array().expect("keys array") {
        assert_eq!(key["kty"], "RSA");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["alg"], "RS256");
        assert_eq!(key["e"], "AQAB");
    }

    let new_key = portal.decoding_key(&new_kid).await;
    assert!(signature_verifies(second_token, &new_key));
    assert_eq!(portal.handle.jwks_requests(), requests_before + 2);

    let rotated: Value = portal
        .http
        .post(portal.url("/rotate-key"))
        .send()
        .await
        .expect("request is sent")
        .json()
        .await
        .expect("JSON body");
    let third_kid = rotated["kid"].as_str().expect("kid");
    assert_ne!(third_kid, new_kid);
    assert_eq!(
        portal.json("/jwks").await["keys"]
            .as_array()
            .expect("keys array")
            .len(),
        3
    );
}

/// Lists what differs in an ID token from an untampered one issued between
/// `before` and `after`.
fn deviations(
    token: &str,
    key: &DecodingKey,
    issuer: &str,
    nonce: &str,
    before: i64,
    after: i64,
) -> Vec<&'static str> {
    let (_, claims) = decode_unverified(token);
    let within = |claim: &str, offset: i64| {
        claims[claim]
            .as_i64()
            .is_some_and(|value| (before + offset..=after + offset).contains(&value))
    };

    let mut found = Vec::new();
    match claims.get("nonce") {
        None => found.push("nonce missing"),
        Some(value) if value != nonce => found.push("nonce wrong"),
        Some(_) => {}
    }
    if !within("nbf", 0) {
        found.push("nbf");
    }
    if !within("exp", 600) {
        found.push("exp");
    }
    if !within("iat", 0) {
        found.push("iat");
    }
    if claims["aud"] != CLIENT_ID {
        found.push("aud");
    }
    if claims["iss"] != issuer {
        found.push("iss");
    }
    if claims["sub"] != "demo-parent" || claims["name"] != "陈静" {
        found.push("subject");
    }
    if !signature_verifies(token, key) {
        found.push("signature");
    }
    found
}

#[tokio::test]
async fn tamper_changes_only_named_part() {
    let portal = TestPortal::start().await;
    let (header, _) = decode_unverified(
        portal.token_for("demo-parent", &AuthRequest::new()).await["id_token"]
            .as_str()
            .expect("id_token"),
    );
    let key = portal
        .decoding_key(header["kid"].as_str().expect("kid"))
        .await;

    let cases: [(Option<Tamper>, &[&str]); 9] = [
        (None, &[]),
        (Some(Tamper::OmitNonce), &["nonce missing"]),
        (Some(Tamper::WrongNonce), &["nonce wrong"]),
        (Some(Tamper::NotBeforeInFuture { seconds: 120 }), &["nbf"]),
        (Some(Tamper::ExpiredSecondsAgo { seconds: 30 }), &["exp"]),
        (Some(Tamper::IssuedInFuture { seconds: 300 }), &["iat"]),
        (Some(Tamper::WrongAudience), &["aud"]),
        (Some(Tamper::WrongIssuer), &["iss"]),
        (Some(Tamper::BadSignature), &["signature"]),
    ];
    for (tamper, expected) in cases {
        if let Some(tamper) = tamper {
            portal.handle.tamper_next_id_token(tamper);
        }
        let request = AuthRequest::new();
        let before = now();
        let tokens = portal.token_for("demo-parent", &request).await;
        let after = now();
        let token = tokens["id_token"].as_str().expect("id_token");
        let nonce = request.nonce.expect("nonce");

        let found = deviations(token, &key, &portal.issuer, &nonce, before, after);
        assert_eq!(found, expected, "{tamper:?}");

        let (_, claims) = decode_unverified(token);
        let shifted = |claim: &str, offset: i64| {
            let value = claims[claim].as_i64().expect("numeric claim");
            (before + offset..=after + offset).contains(&value)
        };
        match tamper {
            Some(Tamper::NotBeforeInFuture { seconds }) => assert!(shifted("nbf", seconds)),
            Some(Tamper::ExpiredSecondsAgo { seconds }) => assert!(shifted("exp", -seconds)),
            Some(Tamper::IssuedInFuture { seconds }) => assert!(shifted("iat", seconds)),
            _ => {}
        }
    }

    let request = AuthRequest::new();
    let before = now();
    let tokens = portal.token_for("demo-parent", &request).await;
    let after = now();
    let token = tokens["id_token"].as_str().expect("id_token");
    let found = deviations(
        token,
        &key,
        &portal.issuer,
        &request.nonce.expect("nonce"),
        before,
        after,
    );
    assert!(
        found.is_empty(),
        "a tamper applies to one token only: {found:?}"
    );
}
