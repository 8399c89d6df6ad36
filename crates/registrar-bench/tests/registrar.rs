//! The code and refresh scenarios end to end, for a bounded number of requests, against a real
//! Registrar on a real port (started in-process by the testkit, so no release binary is
//! needed): the setup signs in through the real login and consent pages, and every measured
//! request must succeed.

use std::sync::Arc;

use hyper::header::HeaderValue;
use registrar_bench::generator::{self, Plan, Stop, Target};
use registrar_bench::scenarios::{Code, Refresh};
use registrar_bench::session::{CODE_SCOPE, Session, TOKEN_PATH};
use registrar_bench::sign_in::{AUTHORIZE_PATH, Credentials};
use registrar_core::authz::{User, hash_password};
use registrar_core::initial_token::InitialTokenOptions;
use registrar_core::secrets::OsRandom;
use registrar_testkit::{Backend, TestServer};

const PASSWORD: &str = "bench password, long enough";

/// A server with protected registration (the bench's clients also register
/// `client_credentials`, which the `open` policy refuses) and one user, as `registrar users add`
/// makes it.
async fn server_with_user(username: &str) -> TestServer {
    let server = TestServer::spawn(Backend::Sqlite).await;
    let user = User {
        id: format!("id-of-{username}"),
        username: username.to_owned(),
        password_hash: hash_password(PASSWORD, &OsRandom).expect("hash the password"),
        created_at: 1_700_000_000,
        name: None,
        email: None,
        email_verified: false,
    };
    server
        .stores()
        .users()
        .insert_user(&user)
        .await
        .expect("add the user");
    server
}

async fn session(server: &TestServer, password: &str) -> Session {
    let token = server.initial_token(InitialTokenOptions::default()).await;
    Session::new(
        "Registrar in-process",
        "testkit, protected registration",
        Target {
            address: server.address,
        },
        Some(vec![token]),
        false,
    )
    .with_user(Credentials {
        username: "alice".to_owned(),
        password: password.to_owned(),
    })
}

fn bounded(concurrency: usize, requests: u64) -> Plan {
    Plan {
        concurrency,
        stop: Stop::Requests(requests),
        sources: None,
    }
}

#[tokio::test]
async fn code_and_refresh_succeed_against_registrar_after_one_sign_in() {
    let server = server_with_user("alice").await;
    let mut session = session(&server, PASSWORD).await;
    let pool = session.register_pool(8).await.expect("register the pool");

    let cookie: HeaderValue = session.sign_in(&pool).await.expect("sign in");
    let code = Arc::new(Code::new(
        AUTHORIZE_PATH,
        TOKEN_PATH,
        &pool,
        CODE_SCOPE,
        cookie.clone(),
        4,
    ));
    let flows = generator::run(&server_target(&server), code, &bounded(4, 40)).await;

    assert_eq!(flows.errors(), 0, "code: {}", flows.statuses());
    let authorized = flows.tally.statuses.get(&303).copied().unwrap_or_default();
    let exchanged = flows.tally.statuses.get(&200).copied().unwrap_or_default();
    assert_eq!(authorized + exchanged, 40);
    assert!(exchanged >= 18, "code: {}", flows.statuses());

    let tokens = session
        .issue_refresh_tokens(&pool, &cookie, 8)
        .await
        .expect("refresh tokens through code flows");
    assert_eq!(tokens.len(), 8);
    let refresh = Arc::new(Refresh::new(TOKEN_PATH, tokens, 4));
    let refreshes = generator::run(&server_target(&server), refresh.clone(), &bounded(4, 40)).await;

    assert_eq!(refreshes.statuses(), "200: 40");
    // Still valid after the run: the tokens the scenario kept refresh again.
    let Ok(refresh) = Arc::try_unwrap(refresh) else {
        panic!("the workers have ended");
    };
    let again = Arc::new(Refresh::new(TOKEN_PATH, refresh.into_tokens(), 2));
    let after = generator::run(&server_target(&server), again, &bounded(2, 8)).await;
    assert_eq!(after.statuses(), "200: 8");
}

#[tokio::test]
async fn signing_in_with_a_wrong_password_fails_the_setup_with_the_reason() {
    let server = server_with_user("alice").await;
    let mut session = session(&server, "not the password").await;
    let pool = session.register_pool(2).await.expect("register the pool");

    let error = session
        .sign_in(&pool)
        .await
        .expect_err("a wrong password cannot sign in");

    let message = format!("{error:#}");
    assert!(
        message.contains("signing in failed")
            && message.contains("the login page refused the user alice"),
        "{message}"
    );
}

fn server_target(server: &TestServer) -> Target {
    Target {
        address: server.address,
    }
}
