//! Just enough of the Chrome DevTools Protocol to load a page in headless Chromium, hear
//! every console error, uncaught exception and failed load, evaluate an expression and
//! take a full-page screenshot. Chromium is started with `--remote-debugging-port=0`
//! and a fresh profile; the port is read from the profile's `DevToolsActivePort`.

use std::io::ErrorKind;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use data_encoding::BASE64;
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

/// How long any one step may take before the test gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Flags for a headless Chromium on a machine with no network and no display.
const FLAGS: [&str; 11] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
];

/// A Chromium binary: `$ARCHSIM_CHROMIUM`, else the first of the usual names on `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ARCHSIM_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// What the page said while it loaded.
#[derive(Debug, Default)]
pub struct Complaints {
    /// `console.error` and `console.assert` messages, uncaught exceptions and log entries
    /// of level `error` (failed loads among them).
    pub errors: Vec<String>,
}

/// A running headless Chromium with one page attached.
pub struct Browser {
    child: Child,
    socket: WebSocket<TcpStream>,
    session: String,
    next_id: u64,
    /// Events that arrived while waiting for something else.
    events: Vec<Value>,
    _profile: Profile,
}

/// A fresh profile directory, removed when dropped.
struct Profile(PathBuf);

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The browser endpoint Chromium wrote into the profile, once it has.
fn endpoint(profile: &Path, child: &mut Child) -> Result<String, String> {
    let file = profile.join("DevToolsActivePort");
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(&file) {
            let mut lines = text.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                return Ok(format!("ws://127.0.0.1:{port}{path}"));
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("chromium exited before it listened: {status}"));
        }
        if started.elapsed() > STEP_TIMEOUT {
            return Err("chromium wrote no DevToolsActivePort".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Browser {
    /// Starts `chromium` with a fresh profile `scratch/name` and attaches to a blank page.
    pub fn start(chromium: &Path, scratch: &Path, name: &str) -> Result<Browser, String> {
        let profile = Profile(scratch.join(format!("profile-{name}-{}", std::process::id())));
        let _ = std::fs::remove_dir_all(&profile.0);
        std::fs::create_dir_all(&profile.0).map_err(|e| e.to_string())?;
        let mut child = Command::new(chromium)
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.0.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", chromium.display()))?;
        let url = match endpoint(&profile.0, &mut child) {
            Ok(url) => url,
            Err(e) => {
                let _ = child.kill();
                return Err(e);
            }
        };
        let host = url.trim_start_matches("ws://").split('/').next().unwrap_or_default();
        let stream = TcpStream::connect(host).map_err(|e| format!("connect {host}: {e}"))?;
        stream.set_read_timeout(Some(STEP_TIMEOUT)).map_err(|e| e.to_string())?;
        let (socket, _) =
            tungstenite::client(url.as_str(), stream).map_err(|e| format!("handshake: {e}"))?;
        let mut browser = Browser {
            child,
            socket,
            session: String::new(),
            next_id: 0,
            events: Vec::new(),
            _profile: profile,
        };
        let target = browser.call("Target.createTarget", json!({ "url": "about:blank" }))?;
        let target = target["targetId"].as_str().ok_or("no targetId")?.to_string();
        let attached = browser
            .call("Target.attachToTarget", json!({ "targetId": target, "flatten": true }))?;
        browser.session = attached["sessionId"].as_str().ok_or("no sessionId")?.to_string();
        for domain in ["Runtime.enable", "Log.enable", "Page.enable"] {
            browser.call(domain, json!({}))?;
        }
        Ok(browser)
    }

    fn send(&mut self, method: &str, params: Value) -> Result<u64, String> {
        self.next_id += 1;
        let mut msg = json!({ "id": self.next_id, "method": method, "params": params });
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        self.socket.send(Message::text(msg.to_string())).map_err(|e| format!("{method}: {e}"))?;
        Ok(self.next_id)
    }

    fn receive(&mut self) -> Result<Value, String> {
        loop {
            match self.socket.read() {
                Ok(Message::Text(text)) => {
                    return serde_json::from_str(text.as_str()).map_err(|e| e.to_string());
                }
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => {
                    return Err("chromium stopped answering".into());
                }
                Err(e) => return Err(format!("devtools socket: {e}")),
            }
        }
    }

    /// Calls `method` and returns its result; events that arrive meanwhile are kept.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let id = self.send(method, params)?;
        loop {
            let msg = self.receive()?;
            if msg["id"].as_u64() == Some(id) {
                if let Some(err) = msg.get("error") {
                    return Err(format!("{method}: {err}"));
                }
                return Ok(msg["result"].clone());
            }
            self.events.push(msg);
        }
    }

    /// Waits for the event `method`, keeping the others.
    fn wait_for(&mut self, method: &str) -> Result<(), String> {
        if self.events.iter().any(|e| e["method"] == method) {
            return Ok(());
        }
        let started = Instant::now();
        while started.elapsed() < STEP_TIMEOUT {
            let msg = self.receive()?;
            let found = msg["method"] == method;
            self.events.push(msg);
            if found {
                return Ok(());
            }
        }
        Err(format!("no {method} within {STEP_TIMEOUT:?}"))
    }

    /// Loads `url` and waits for its `load` event.
    pub fn open(&mut self, url: &str) -> Result<(), String> {
        self.events.clear();
        let nav = self.call("Page.navigate", json!({ "url": url }))?;
        if let Some(err) = nav.get("errorText") {
            return Err(format!("navigating to {url}: {err}"));
        }
        self.wait_for("Page.loadEventFired")?;
        // A round trip after the load lets late console messages arrive first.
        self.call("Runtime.evaluate", json!({ "expression": "0" }))?;
        Ok(())
    }

    /// The errors the page reported since it was opened.
    pub fn complaints(&self) -> Complaints {
        let mut errors = Vec::new();
        for e in &self.events {
            let p = &e["params"];
            match e["method"].as_str() {
                Some("Runtime.consoleAPICalled")
                    if p["type"] == "error" || p["type"] == "assert" =>
                {
                    let kind = p["type"].as_str().unwrap_or("?");
                    errors.push(format!("console.{kind}: {}", p["args"]));
                }
                Some("Runtime.exceptionThrown") => {
                    let details = &p["exceptionDetails"];
                    let what = details["exception"]["description"].as_str();
                    let what = what.or(details["text"].as_str()).unwrap_or("?");
                    errors.push(format!("exception: {what}"));
                }
                Some("Log.entryAdded") if p["entry"]["level"] == "error" => {
                    let entry = &p["entry"];
                    errors.push(format!("log: {} {}", entry["text"], entry["url"]));
                }
                _ => {}
            }
        }
        Complaints { errors }
    }

    /// Evaluates `expression` in the page and returns its value.
    pub fn eval(&mut self, expression: &str) -> Result<Value, String> {
        let params = json!({ "expression": expression, "returnByValue": true });
        let result = self.call("Runtime.evaluate", params)?;
        if let Some(ex) = result.get("exceptionDetails") {
            return Err(format!("{expression}: {ex}"));
        }
        Ok(result["result"]["value"].clone())
    }

    /// A PNG of the whole page, `width` CSS pixels wide.
    pub fn screenshot(&mut self, width: u32) -> Result<Vec<u8>, String> {
        let height = self.eval("document.documentElement.scrollHeight")?.as_u64().unwrap_or(800);
        let metrics = json!({
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false
        });
        self.call("Emulation.setDeviceMetricsOverride", metrics)?;
        let shot = self.call(
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": true }),
        )?;
        let data = shot["data"].as_str().ok_or("no screenshot data")?;
        BASE64.decode(data.as_bytes()).map_err(|e| format!("screenshot: {e}"))
    }
}
