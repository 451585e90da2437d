//! A scripted browser for tests: a cookie jar, manual redirects, and the
//! steps of signing in through the stand-in portal.

use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};

use crate::helpers::TestApp;

/// A browser: its own cookie jar, no automatic redirects.
pub struct Browser {
    pub client: reqwest::Client,
}

impl Browser {
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .expect("HTTP client");
        Self { client }
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.client.get(url).send().await.expect("request is sent")
    }

    /// Goes to `/auth/login` and returns the portal's authorize URL.
    pub async fn start(&self, app: &TestApp, return_to: &str) -> String {
        let query = serde_urlencoded::to_string([("return_to", return_to)]).expect("query");
        let response = self.get(&app.url(&format!("/auth/login?{query}"))).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "login starts with a redirect"
        );
        location(&response)
    }

    /// Picks `subject` on the portal's login page and returns the callback URL.
    pub async fn choose_citizen(&self, authorize_url: &str, subject: &str) -> String {
        let page = self.get(authorize_url).await;
        assert_eq!(page.status(), StatusCode::OK, "portal shows its login page");
        let html = page.text().await.expect("page text");
        assert!(html.contains(subject), "portal offers {subject}");

        let url = url::Url::parse(authorize_url).expect("authorize URL");
        let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        form.push(("citizen".into(), subject.into()));
        let action = format!("{}/authorize", url.origin().ascii_serialization());
        let response = self
            .client
            .post(action)
            .form(&form)
            .send()
            .await
            .expect("portal form is posted");
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "portal redirects back"
        );
        location(&response)
    }

    /// Posts a form to a server function as a page with JavaScript would,
    /// from one of Ningyu's pages.
    pub async fn call(
        &self,
        app: &TestApp,
        function: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.client
            .post(app.url(&format!("/sfn/{function}")))
            .header("origin", app.url(""))
            .form(form)
            .send()
            .await
            .expect("server function is called")
    }

    /// Signs in as `subject` and returns the callback's response.
    pub async fn sign_in(
        &self,
        app: &TestApp,
        subject: &str,
        return_to: &str,
    ) -> reqwest::Response {
        let authorize = self.start(app, return_to).await;
        let callback = self.choose_citizen(&authorize, subject).await;
        self.get(&callback).await
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .expect("Location header")
        .to_str()
        .expect("ASCII Location")
        .to_owned()
}

pub fn sets_session_cookie(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|cookie| {
            cookie.starts_with("ningyu_session=") && !cookie.starts_with("ningyu_session=;")
        })
}
