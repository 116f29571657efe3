//! wss:// with a generated certificate: clients that trust it connect, others do not.

mod common;

use common::*;
use rostrum::hub::{Hub, Settings};

/// A self-signed certificate for localhost, written as PEM files.
fn certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("generates");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, generated.cert.pem()).expect("writes");
    std::fs::write(&key, generated.key_pair.serialize_pem()).expect("writes");
    (cert, key)
}

#[tokio::test]
async fn clients_trusting_the_ca_connect_over_wss_and_others_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, key) = certificate(dir.path());
    let tls = rostrum::tls::server_config(&cert, &key).expect("tls config");
    let settings = Settings { tls: Some(tls), ..Settings::default() };
    let hub = Hub::start("127.0.0.1:0", dir.path(), &[session_file()], settings).await.expect("starts");
    assert_eq!(hub.scheme, "wss");
    // Websocket URLs over TLS; the room pages over HTTPS.
    assert!(hub.join_urls().iter().all(|u| u.url.starts_with("wss://") || u.url.starts_with("https://")));
    assert!(hub.join_urls().iter().any(|u| u.role == "display" && u.url.starts_with("https://")));
    let token = chair_token(&hub);
    let url = format!("wss://localhost:{}/v1/sessions/{SESSION}", hub.addr.port());

    // A client that does not know the private CA: the TLS handshake fails.
    let untrusting = rostrum::tls::client_config(None).expect("config");
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url.as_str()).expect("request");
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
    let refused = tokio_tungstenite::connect_async_tls_with_config(
        request,
        None,
        true,
        Some(tokio_tungstenite::Connector::Rustls(untrusting)),
    )
    .await;
    let err = match refused {
        Ok(_) => panic!("an unknown certificate is refused"),
        Err(e) => e.to_string(),
    };
    assert!(err.to_lowercase().contains("certificate"), "{err}");

    // Plain ws:// to a wss:// hub does not get in either.
    let plain = format!("ws://127.0.0.1:{}/v1/sessions/{SESSION}", hub.addr.port());
    assert!(rostrum::client::Connection::connect(&plain, Some(&token), None).await.is_err());

    // With the CA trusted (`--ca`), the chair connects and is served as usual.
    rostrum::tls::trust_ca(&cert).expect("trusts the CA");
    let mut chair = rostrum::client::Connection::connect(&url, Some(&token), None).await.expect("connects over wss");
    handshake(&mut chair).await;
    accepted(&mut chair, rostrum::domain::Command::OpenSegment { segment: "general".into() }).await;
    hub.shutdown().await;
}

#[test]
fn the_hub_command_serves_wss_with_a_certificate() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, key) = certificate(dir.path());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
        .args(["hub", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("data"))
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .arg(session_file())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let lines: Vec<String> = BufReader::new(stdout).lines().map_while(Result::ok).take(3).collect();
    let _ = child.kill();
    let _ = child.wait();
    assert!(lines.iter().any(|l| l.starts_with("listening on wss://127.0.0.1:")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("chair") && l.contains("wss://")), "{lines:?}");
    // A key that does not go with the certificate is a clear error.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("generates");
    let wrong_key = dir.path().join("wrong.pem");
    std::fs::write(&wrong_key, other.key_pair.serialize_pem()).expect("writes");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
        .args(["hub", "--data"])
        .arg(dir.path().join("data2"))
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&wrong_key)
        .arg(session_file())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("do not go together"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
