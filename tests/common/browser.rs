//! Headless Chromium (Debian's `chromium`) driven over the DevTools protocol with
//! the websocket client the project already has: open a page, read its DOM by
//! evaluating JavaScript, resize it, take a screenshot. Killed when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

pub const DEADLINE: Duration = Duration::from_secs(20);

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    socket: Socket,
    next_id: u64,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A page open in the browser (a DevTools session attached to its target).
pub struct Page {
    pub session: String,
}

impl Browser {
    /// Start headless Chromium (installed by `.ci/run` when missing).
    pub async fn start() -> Self {
        let profile = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                // The speaker's timer may sound its alerts without a click first.
                "--autoplay-policy=no-user-gesture-required",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium runs (install it: apt-get install chromium)");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let url = rx.recv_timeout(DEADLINE).expect("chromium says where DevTools listens");
        let (socket, _) = tokio_tungstenite::connect_async(url.as_str()).await.expect("DevTools connects");
        Self { child, _profile: profile, socket, next_id: 1 }
    }

    /// Send a DevTools command and wait for its result (events in between are skipped).
    pub async fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket.send(Message::Text(message.to_string().into())).await.expect("sends");
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = tokio::time::timeout(left, self.socket.next()).await.expect("DevTools answers in time");
            let Some(Ok(Message::Text(text))) = frame else { continue };
            let value: Value = serde_json::from_str(text.as_str()).expect("json");
            if value["id"] == json!(id) {
                assert!(value.get("error").is_none(), "{method}: {value}");
                return value["result"].clone();
            }
        }
    }

    /// Open `url` in a new page of `width` × `height`.
    pub async fn open(&mut self, url: &str, width: u32, height: u32) -> Page {
        let target = self.call(None, "Target.createTarget", json!({ "url": "about:blank" })).await;
        let target = target["targetId"].as_str().expect("a target").to_string();
        let attached = self.call(None, "Target.attachToTarget", json!({ "targetId": target, "flatten": true })).await;
        let session = attached["sessionId"].as_str().expect("a session").to_string();
        let page = Page { session };
        self.resize(&page, width, height).await;
        self.call(Some(&page.session), "Page.enable", json!({})).await;
        self.call(Some(&page.session), "Page.navigate", json!({ "url": url })).await;
        page
    }

    pub async fn resize(&mut self, page: &Page, width: u32, height: u32) {
        let metrics = json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false });
        self.call(Some(&page.session), "Emulation.setDeviceMetricsOverride", metrics).await;
    }

    /// Evaluate a JavaScript expression in the page; its value.
    pub async fn eval(&mut self, page: &Page, expression: &str) -> Value {
        let result = self
            .call(Some(&page.session), "Runtime.evaluate", json!({ "expression": expression, "returnByValue": true }))
            .await;
        result["result"]["value"].clone()
    }

    /// The visible text of the page.
    pub async fn text(&mut self, page: &Page) -> String {
        self.eval(page, "document.body ? document.body.innerText : ''").await.as_str().unwrap_or_default().to_string()
    }

    /// Wait until the page's text passes `test` (polling, never a bare sleep); the text.
    pub async fn wait_text(&mut self, page: &Page, what: &str, limit: Duration, test: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let text = self.text(page).await;
            if test(&text) {
                return text;
            }
            assert!(start.elapsed() < limit, "waited {limit:?} for {what}; the page shows:\n{text}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A PNG of the page as it is, written to `path`.
    pub async fn screenshot(&mut self, page: &Page, path: &std::path::Path) {
        use base64::Engine;
        let shot = self.call(Some(&page.session), "Page.captureScreenshot", json!({ "format": "png" })).await;
        let data = shot["data"].as_str().expect("png data");
        let png = base64::engine::general_purpose::STANDARD.decode(data).expect("base64");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot folder");
        }
        std::fs::write(path, png).expect("screenshot written");
    }
}
