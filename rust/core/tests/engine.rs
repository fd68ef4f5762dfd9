//! The engine module against real engines: every test runs on Podman and on Docker.
//! `make test` starts both and sets PRESS_SELFHOSTED_TEST_PODMAN / _DOCKER (socket URLs) and
//! PRESS_SELFHOSTED_TEST_ROOTFS (a static-busybox rootfs tarball).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use press_selfhosted_core::engine::naming::{object_name, LABEL_KIND, LABEL_SITE};
use press_selfhosted_core::engine::{
    ContainerSpec, Endpoint, Engine, EngineKind, Error, ExecSpec, PortRange, PublishedPort, Stream,
};

const IMAGE: &str = "erp-saas-cloud-c16-test/busybox:1";

async fn engines() -> Vec<Engine> {
    let mut engines = Vec::new();
    for (var, kind) in
        [("PRESS_SELFHOSTED_TEST_PODMAN", EngineKind::Podman), ("PRESS_SELFHOSTED_TEST_DOCKER", EngineKind::Docker)]
    {
        let url =
            std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set: run the engine tests through `make test`"));
        let engine = Engine::connect(&Endpoint::parse(&url, None).unwrap()).await.unwrap();
        assert_eq!(engine.info().kind, kind, "{url}");
        let rootfs = std::env::var("PRESS_SELFHOSTED_TEST_ROOTFS").expect("PRESS_SELFHOSTED_TEST_ROOTFS is not set");
        if engine.image_id(IMAGE).await.is_err() {
            engine.import_rootfs(rootfs.as_ref(), IMAGE).await.unwrap();
        }
        engines.push(engine);
    }
    engines
}

fn unique(test: &str, engine: &Engine) -> String {
    format!("{test}-{}-{}", engine.info().kind.as_str(), std::process::id())
}

fn spec(kind: &str, slug: &str, argv: &[&str]) -> ContainerSpec {
    ContainerSpec {
        name: object_name(kind, slug).unwrap(),
        image: IMAGE.into(),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        labels: BTreeMap::from([(LABEL_KIND.into(), kind.into()), (LABEL_SITE.into(), slug.into())]),
        init: true,
        ..Default::default()
    }
}

fn httpd(kind: &str, slug: &str) -> ContainerSpec {
    spec(kind, slug, &["httpd", "-f", "-p", "8080", "-h", "/www"])
}

/// GET / on 127.0.0.1:port, retried until it answers or 15 s pass.
fn http_get(port: u16) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = s.write_all(b"GET / HTTP/1.0\r\nHost: test\r\n\r\n");
            let mut reply = String::new();
            if s.read_to_string(&mut reply).is_ok() && reply.starts_with("HTTP/1.") {
                return Some(reply);
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

async fn stdout(engine: &Engine, id: &str, spec: &ExecSpec) -> String {
    engine.exec(id, spec, |_, _| {}).await.unwrap().stdout
}

async fn until(engine: &Engine, id: &str, running: bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while engine.inspect(id).await.unwrap().running != running {
        assert!(Instant::now() < deadline, "{id} never reached running={running}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn connect_reports_the_engine_and_refuses_a_missing_socket() {
    for engine in engines().await {
        assert!(!engine.info().version.is_empty());
        assert!(engine.info().api_version.starts_with("1."), "{:?}", engine.info());
    }
    let missing = Engine::connect(&Endpoint::Unix("/nonexistent/engine.sock".into())).await.unwrap_err();
    assert!(matches!(missing, Error::Unreachable { .. }), "{missing}");
}

#[tokio::test]
async fn a_served_container_answers_survives_restart_and_is_found_by_label() {
    for (i, engine) in engines().await.into_iter().enumerate() {
        let slug = unique("web", &engine);
        let range = PortRange::new(32400 + i as u16 * 20, 32419 + i as u16 * 20).unwrap();
        let port = engine.allocate_ports(range, 1).await.unwrap()[0];
        let mut web = httpd("site", &slug);
        web.ports = vec![PublishedPort::loopback(8080, port)];
        let id = engine.run(&web).await.unwrap();

        let reply = http_get(port).expect("the container answers on its published port");
        assert!(reply.contains("hello from the test image"), "{reply}");
        let state = engine.inspect(&id).await.unwrap();
        assert!(state.running && state.status == "running");
        assert_eq!(state.name, web.name);
        assert_eq!(state.labels.get(LABEL_SITE), Some(&slug));
        assert_eq!(state.ports, vec![PublishedPort::loopback(8080, port)]);

        // State is rebuilt from the engine: labels find exactly this container.
        let found = engine.list(&[format!("{LABEL_SITE}={slug}")]).await.unwrap();
        assert_eq!(found.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);

        engine.stop(&id, 5).await.unwrap();
        assert!(!engine.inspect(&id).await.unwrap().running);
        // A stopped container keeps its port: the allocator must not hand it out.
        let free = engine.allocate_ports(range, 19).await.unwrap();
        assert!(!free.contains(&port) && free.len() == 19, "{free:?}");
        engine.restart(&id, 5).await.unwrap();
        until(&engine, &id, true).await;
        assert!(http_get(port).is_some(), "answers again after restart");

        engine.remove(&id, true).await.unwrap();
        assert!(matches!(engine.inspect(&id).await, Err(Error::NotFound(_))));
    }
}

#[tokio::test]
async fn exec_streams_lines_and_returns_the_exit_code() {
    for engine in engines().await {
        let id = engine.run(&spec("bench", &unique("exec", &engine), &["sleep", "300"])).await.unwrap();

        let mut lines = Vec::new();
        let seq = ExecSpec { argv: vec!["seq".into(), "1".into(), "3".into()], ..Default::default() };
        let done = engine.exec(&id, &seq, |s, l| lines.push((s, l.to_string()))).await.unwrap();
        assert_eq!(done.exit_code, 0);
        assert_eq!(lines, [(Stream::Stdout, "1".into()), (Stream::Stdout, "2".into()), (Stream::Stdout, "3".into())]);

        let failing = ExecSpec { argv: vec!["ls".into(), "/missing".into()], ..Default::default() };
        let result = engine.exec(&id, &failing, |_, _| {}).await.unwrap();
        assert_ne!(result.exit_code, 0);
        assert!(result.stderr.contains("/missing"), "{result:?}");

        // argv is passed as is: no shell expands or splits it.
        let literal = ExecSpec { argv: vec!["echo".into(), "$HOME; rm -rf /".into()], ..Default::default() };
        assert_eq!(stdout(&engine, &id, &literal).await, "$HOME; rm -rf /\n");

        let context = ExecSpec {
            argv: vec!["env".into()],
            env: BTreeMap::from([("SITE".into(), "a.test".into())]),
            user: Some("nobody".into()),
            workdir: Some("/tmp".into()),
            ..Default::default()
        };
        let env = stdout(&engine, &id, &context).await;
        assert!(env.lines().any(|l| l == "SITE=a.test"), "{env}");
        let id_u = ExecSpec { argv: vec!["id".into(), "-u".into()], user: Some("nobody".into()), ..Default::default() };
        assert_eq!(stdout(&engine, &id, &id_u).await.trim(), "65534");
        let pwd = ExecSpec { argv: vec!["pwd".into()], workdir: Some("/tmp".into()), ..Default::default() };
        assert_eq!(stdout(&engine, &id, &pwd).await.trim(), "/tmp");

        let slow = ExecSpec {
            argv: vec!["sleep".into(), "77".into()],
            timeout: Some(Duration::from_secs(1)),
            ..Default::default()
        };
        assert!(matches!(engine.exec(&id, &slow, |_, _| {}).await, Err(Error::Timeout { .. })));
        let ps = ExecSpec { argv: vec!["ps".into()], ..Default::default() };
        let processes = stdout(&engine, &id, &ps).await;
        assert!(!processes.contains("sleep 77"), "the timed-out process was killed:\n{processes}");

        engine.remove(&id, true).await.unwrap();
    }
}

#[tokio::test]
async fn typed_errors_for_conflicts_missing_images_and_bad_specs() {
    for engine in engines().await {
        let first = spec("bench", &unique("dup", &engine), &["sleep", "300"]);
        let id = engine.run(&first).await.unwrap();
        let again = engine.run(&first).await;
        assert!(matches!(again, Err(Error::NameConflict(_))), "{:?}: {again:?}", engine.info().kind);
        engine.remove(&id, true).await.unwrap();

        let mut missing = spec("bench", &unique("noimage", &engine), &["true"]);
        missing.image = "erp-saas-cloud-c16-test/missing:1".into();
        let err = engine.run(&missing).await.unwrap_err();
        assert!(matches!(err, Error::ImageMissing(_)), "{err}");
        assert!(matches!(engine.image_id("erp-saas-cloud-c16-test/missing:1").await, Err(Error::ImageMissing(_))));

        let mut unlabelled = spec("bench", &unique("nolabel", &engine), &["true"]);
        unlabelled.labels.clear();
        assert!(matches!(engine.run(&unlabelled).await, Err(Error::Invalid(_))));
        assert!(engine.list(&[format!("{LABEL_SITE}={}", unique("nolabel", &engine))]).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn containers_on_a_user_network_reach_each_other_by_alias() {
    for engine in engines().await {
        let network = object_name("network", &unique("net", &engine)).unwrap();
        let labels = BTreeMap::from([(LABEL_KIND.to_string(), "network".to_string())]);
        let net_id = engine.ensure_network(&network, &labels).await.unwrap();
        assert_eq!(engine.ensure_network(&network, &labels).await.unwrap(), net_id, "ensure is idempotent");

        let mut web = httpd("site", &unique("aliased", &engine));
        web.network = Some((network.clone(), vec!["web".into()]));
        let web_id = engine.run(&web).await.unwrap();
        let client_id = engine.run(&spec("bench", &unique("client", &engine), &["sleep", "300"])).await.unwrap();
        engine.connect_network(&network, &client_id, &["client".into()]).await.unwrap();

        let get = ExecSpec {
            argv: vec!["wget".into(), "-q".into(), "-O".into(), "-".into(), "http://web:8080/".into()],
            ..Default::default()
        };
        let mut answer = String::new();
        for _ in 0..50 {
            let result = engine.exec(&client_id, &get, |_, _| {}).await.unwrap();
            if result.exit_code == 0 {
                answer = result.stdout;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(answer.contains("hello from the test image"), "no answer from web by alias: {answer:?}");

        engine.remove(&web_id, true).await.unwrap();
        engine.remove(&client_id, true).await.unwrap();
        engine.remove_network(&network).await.unwrap();
    }
}

#[tokio::test]
async fn logs_and_stats() {
    for engine in engines().await {
        let id = engine.run(&spec("bench", &unique("logs", &engine), &["seq", "1", "5"])).await.unwrap();
        until(&engine, &id, false).await;
        let mut lines = Vec::new();
        engine
            .logs(&id, Some(2), None, false, |l| {
                lines.push(l.text.clone());
                true
            })
            .await
            .unwrap();
        assert_eq!(lines, ["4", "5"]);
        engine.remove(&id, true).await.unwrap();

        let web = engine.run(&httpd("site", &unique("stats", &engine))).await.unwrap();
        let stats = engine.stats(&web).await.unwrap();
        assert!(stats.memory_bytes > 0, "{stats:?}");
        engine.remove(&web, true).await.unwrap();
    }
}

#[tokio::test]
async fn the_allocator_skips_ports_in_use_and_reports_exhaustion() {
    for (i, engine) in engines().await.into_iter().enumerate() {
        let start = 32460 + i as u16 * 10;
        let range = PortRange::new(start, start + 2).unwrap();
        let held = std::net::TcpListener::bind(("0.0.0.0", start)).unwrap();
        let ports = engine.allocate_ports(range, 2).await.unwrap();
        assert_eq!(ports, [start + 1, start + 2], "a port the OS has bound is skipped");
        assert!(matches!(engine.allocate_ports(range, 3).await, Err(Error::PortsExhausted { .. })));
        drop(held);
        assert_eq!(engine.allocate_ports(range, 3).await.unwrap(), [start, start + 1, start + 2]);
    }
}
